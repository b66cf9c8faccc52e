package server

import (
	"archive/tar"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestDockerCLIDiffExportHistoryDFPrune(t *testing.T) {
	a := startAgent(t)
	run := func(args ...string) (string, string, int) { return docker(t, a.sock, "", args...) }
	must := func(args ...string) string { t.Helper(); return dockerMust(t, a.sock, args...) }

	must("run", "--name", "changed", "busybox", "sh", "-c", "echo new > /tmp/added; rm /bin/ls; echo x >> /etc/passwd")
	want := []string{"A /tmp/added", "C /bin", "C /etc", "C /etc/passwd", "C /tmp", "D /bin/ls"}
	got := strings.Split(strings.TrimSpace(must("diff", "changed")), "\n")
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("docker diff = %q, want %q", got, want)
	}

	tr := tar.NewReader(strings.NewReader(must("export", "changed")))
	names := map[string]bool{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("docker export: %v", err)
		}
		names[h.Name] = true
	}
	for name, want := range map[string]bool{"tmp/added": true, "bin/sh": true, "bin/ls": false, "etc/passwd": true, "proc/self": false} {
		if names[name] != want {
			t.Errorf("docker export: has %s = %v, want %v", name, names[name], want)
		}
	}

	hist := strings.Split(strings.TrimSpace(must("history", "--format", "{{.ID}} {{.Size}}", "busybox")), "\n")
	if len(hist) == 0 || !strings.HasPrefix(hist[0], "sha256:") && len(strings.Fields(hist[0])[0]) != 12 {
		t.Errorf("docker history busybox = %q", hist)
	}

	df := must("system", "df")
	if !strings.Contains(df, "Images") || !strings.Contains(df, "Containers") || !strings.Contains(df, "Local Volumes") {
		t.Errorf("docker system df:\n%s", df)
	}

	must("run", "-d", "--name", "alive", "busybox", "sleep", "1000")
	out := must("container", "prune", "-f")
	if !strings.Contains(out, "Deleted Containers:") || !strings.Contains(out, "Total reclaimed space") {
		t.Errorf("docker container prune -f = %q", out)
	}
	if got := must("ps", "-a", "--format", "{{.Names}}"); got != "alive\n" {
		t.Errorf("after prune, containers = %q, want only the running one", got)
	}
	must("image", "prune", "-f")
	must("builder", "prune", "-f")

	if _, errOut, code := run("swarm", "init"); code == 0 || !strings.Contains(errOut, "berth does not support POST /swarm/init") {
		t.Errorf("docker swarm init: exit %d, %q", code, errOut)
	}
}
