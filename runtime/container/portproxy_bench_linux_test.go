package container

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/hostport"
	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testwait"
)

// BenchmarkPublishedPortHTTP is HTTP GETs from the machine's 127.0.0.1
// through a published port to busybox httpd in a container, a new
// connection per request (the proxy's accept, dial and copy each time).
func BenchmarkPublishedPortHTTP(b *testing.B) {
	testenv.NeedRoot(b)
	rt, err := New(b.Context(), filepath.Join(b.TempDir(), "containers"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		for _, c := range rt.List() {
			rt.Remove(context.Background(), c.Spec.ID, true)
		}
	})
	port, err := hostport.Pick()
	if err != nil {
		b.Fatal(err)
	}
	spec := Spec{ID: NewID(), Image: "busybox", LowerDirs: []string{busyboxRootfs(b)},
		Ports: []PortBinding{{Proto: "tcp", HostPort: port, ContainerPort: 8080}}}
	if err := spec.ApplyConfig(ImageConfig{}, sh("mkdir -p /w && echo ok > /w/index.html && exec httpd -f -p 8080 -h /w")); err != nil {
		b.Fatal(err)
	}
	if _, err := rt.Create(b.Context(), spec); err != nil {
		b.Fatal(err)
	}
	if err := rt.Start(b.Context(), spec.ID); err != nil {
		b.Fatal(err)
	}
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	get := func() error {
		res, err := c.Get(url)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		_, err = io.Copy(io.Discard, res.Body)
		return err
	}
	testwait.For(b, 20*time.Second, "an answer to GET "+url, get)
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if err := get(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}
