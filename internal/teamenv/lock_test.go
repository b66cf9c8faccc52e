package teamenv

import (
	"context"
	"strings"
	"testing"

	"github.com/berthvm/berth/internal/testimages"
	"github.com/berthvm/berth/internal/testregistry"
)

// TestResolveAndLock resolves a two-architecture index and a one-
// architecture image from a real registry, as a machine names it
// (10.0.2.2), and reads back the lock written with them.
func TestResolveAndLock(t *testing.T) {
	reg := testregistry.Start(t, testregistry.Options{})
	ctx := context.Background()
	idx, err := testimages.HelloIndex()
	if err != nil {
		t.Fatal(err)
	}
	if err := testimages.PushIndex(ctx, reg.Host+"/hello:1", idx, "", ""); err != nil {
		t.Fatal(err)
	}
	img, err := testimages.Hello("amd64")
	if err != nil {
		t.Fatal(err)
	}
	if err := testimages.Push(ctx, reg.Host+"/hello-amd64:1", img, "", ""); err != nil {
		t.Fatal(err)
	}
	_, port, _ := strings.Cut(reg.Host, ":")
	alias := HostAlias + ":" + port
	multi, err := Resolve(ctx, alias+"/hello:1", []string{alias})
	if err != nil {
		t.Fatal(err)
	}
	digest, _ := idx.Digest()
	if multi.Digest != digest.String() || len(multi.Platforms) != 2 || multi.Platforms["amd64"] == multi.Platforms["arm64"] {
		t.Errorf("index resolved to %+v, want %s with an amd64 and an arm64 manifest", multi, digest)
	}
	single, err := Resolve(ctx, alias+"/hello-amd64:1", []string{alias})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	if single.Platforms["amd64"] != d.String() || len(single.Platforms) != 1 {
		t.Errorf("image resolved to %+v, want amd64 only, %s", single, d)
	}
	if _, err := Resolve(ctx, alias+"/nope:1", []string{alias}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("resolve of a missing image: %v", err)
	}

	env := &Env{Dir: t.TempDir()}
	multi.Machine, multi.Service = "app", "web"
	want := &Lock{Version: LockVersion, BerthOS: LockedOS{Version: "berth-os-1", SHA256: "ab"}, Agent: LockedApp{Version: "v1"}, Images: []Image{multi}}
	if err := env.WriteLock(want); err != nil {
		t.Fatal(err)
	}
	got, err := env.ReadLock()
	if err != nil {
		t.Fatal(err)
	}
	if got.BerthOS != want.BerthOS || got.Agent != want.Agent || len(got.Images) != 1 || got.Images[0].Platforms["arm64"] != multi.Platforms["arm64"] {
		t.Errorf("read back %+v, want %+v", got, want)
	}
}
