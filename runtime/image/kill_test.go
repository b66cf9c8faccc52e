//go:build !windows

package image

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/testimages"
	"github.com/berthvm/berth/internal/testwait"
)

// childPull runs in a subprocess of the test binary: it pulls ref into
// the store at root, printing progress, until the parent kills it.
func childPull(root, ref string) {
	s, err := Open(root, Options{})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	_, err = s.Pull(context.Background(), ref, PullOptions{Progress: func(p Progress) {
		fmt.Printf("%s %s %d\n", p.ID, p.Status, p.Current)
	}})
	fmt.Println("done:", err)
	os.Exit(0)
}

// TestKillDuringPull kills a process mid-pull and checks that the store it
// leaves shows no half image and that a pull then succeeds.
func TestKillDuringPull(t *testing.T) {
	s := openStore(t)
	root := s.Root()
	s.Close()
	reg := registry(t)
	big, err := testimages.Big()
	if err != nil {
		t.Fatal(err)
	}
	ref := reg.Host + "/big:latest"
	if err := testimages.Push(context.Background(), ref, big, "", ""); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "BERTH_IMAGE_TEST_CHILD_PULL="+ref, "BERTH_IMAGE_TEST_CHILD_ROOT="+root)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	killed := false
	for sc.Scan() {
		line := sc.Text()
		// Kill once a layer is well on its way, or another one complete.
		if strings.Contains(line, "Pull complete") || strings.Contains(line, "Downloading") && !strings.HasSuffix(line, " 0") {
			cmd.Process.Kill()
			killed = true
			break
		}
		if strings.HasPrefix(line, "done:") || strings.HasPrefix(line, "open:") {
			t.Fatalf("child finished before it could be killed: %s", line)
		}
	}
	cmd.Wait()
	if !killed {
		t.Fatal("the child pull showed no download progress")
	}
	// What the killed pull left: staging, maybe whole layers, no image.
	staged, _ := os.ReadDir(filepath.Join(root, "tmp"))
	t.Logf("killed pull left %d staging entries", len(staged))

	var s2 *Store
	testwait.For(t, 10*time.Second, "the store to open after the kill", func() (err error) {
		s2, err = Open(root, Options{})
		return err
	})
	defer s2.Close()
	if l := s2.List(); len(l) != 0 {
		t.Errorf("after the kill the store lists %+v, want nothing", l)
	}
	if staged, _ := os.ReadDir(filepath.Join(root, "tmp")); len(staged) != 0 {
		t.Errorf("Open left %d staging entries", len(staged))
	}
	if layers, _ := os.ReadDir(filepath.Join(root, "layers")); len(layers) != 0 {
		t.Errorf("Open kept %d layers no image uses", len(layers))
	}
	res, err := s2.Pull(context.Background(), ref, PullOptions{})
	if err != nil {
		t.Fatalf("pull after the kill: %v", err)
	}
	im, err := s2.Resolve(res.ID)
	if err != nil || len(im.LayerDirs) != testimages.BigLayers {
		t.Fatalf("Resolve after the kill: %d layers, %v", len(im.LayerDirs), err)
	}
	for i, d := range im.LayerDirs {
		files, _ := os.ReadDir(filepath.Join(d, fmt.Sprintf("big%d", i)))
		if len(files) != testimages.BigLayerBytes>>20 {
			t.Errorf("layer %d holds %d files, want %d", i, len(files), testimages.BigLayerBytes>>20)
		}
	}
}
