package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/berthvm/berth/internal/testimages"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// checkI386 checks that machine name runs a 32-bit x86 image: the seccomp
// profile allows the 32-bit ABI's calls as Docker's does (files,
// processes, sockets through socketcall).
func checkI386(t *testing.T, root, name string) {
	t.Helper()
	img, err := testimages.BusyboxI386()
	if err != nil {
		t.Fatal(err)
	}
	tarball := filepath.Join(t.TempDir(), "busybox-i386.tar")
	f, err := os.Create(tarball)
	if err != nil {
		t.Fatal(err)
	}
	if err := testimages.WriteDockerArchive(f, map[string]v1.Image{"busybox-i386:latest": img}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	mustBerth(t, root, "load", "-m", name, "-i", tarball)
	script := `echo hi > /tmp/x && cat /tmp/x; ls /bin/busybox; id -u; sh -c 'exit 3'; echo $?; (nc -l -p 1234 > /tmp/got &) ; sleep 1; echo over-tcp | nc 127.0.0.1 1234; sleep 1; cat /tmp/got`
	if got, want := mustBerth(t, root, "run", "-m", name, "--rm", "busybox-i386", "sh", "-c", script), "hi\n/bin/busybox\n0\n3\nover-tcp\n"; got != want {
		t.Errorf("an i386 busybox printed %q, want %q", got, want)
	}
}
