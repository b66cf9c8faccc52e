package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testimages"
	"github.com/berthvm/berth/internal/testregistry"
	"github.com/berthvm/berth/runtime/server"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/client"
)

// localAgent serves a real agent on a unix socket in a temp folder (the
// same server a machine runs) and returns a client of it.
func localAgent(t *testing.T) *client.Client {
	t.Helper()
	testenv.NeedRoot(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "agent.sock")
	ln, err := server.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.New(server.Options{StateDir: filepath.Join(dir, "state")}).Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	cli, err := client.New(client.WithHost("unix://" + sock))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

func TestImageCommands(t *testing.T) {
	cli := localAgent(t)
	reg := testregistry.Start(t, testregistry.Options{})
	ctx := context.Background()
	ly, err := testimages.Layered()
	if err != nil {
		t.Fatal(err)
	}
	ref := reg.Host + "/layered:v1"
	if err := testimages.Push(ctx, ref, ly, "", ""); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no host credentials

	var out bytes.Buffer
	if err := pullImage(ctx, cli, pullOptions{Ref: ref}, &out); err != nil {
		t.Fatal(err)
	}
	// Piped: one line per layer, no progress bars.
	got := out.String()
	if n := strings.Count(got, ": Pull complete\n"); n != 3 {
		t.Errorf("pull output has %d Pull complete lines, want 3 (one per layer):\n%s", n, got)
	}
	for _, want := range []string{"v1: Pulling from layered\n", "Digest: sha256:", "Status: Downloaded newer image for " + ref + "\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("pull output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "Downloading") || strings.Contains(got, "\r") {
		t.Errorf("piped pull output shows progress:\n%s", got)
	}

	if err := tagImage(ctx, cli, ref, "mine:latest"); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := listImages(ctx, cli, imagesOptions{}, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !regexp.MustCompile(`^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$`).MatchString(lines[0]) {
		t.Fatalf("images =\n%s\nwant a header and two rows", out.String())
	}
	id := shortImageID(configID(t, ly))
	row := regexp.MustCompile(`^mine\s+latest\s+` + id + `\s+\S.* ago\s+[0-9.]+[kMG]?B$`)
	if !row.MatchString(lines[1]) && !row.MatchString(lines[2]) {
		t.Errorf("images has no row for mine:latest with ID %s:\n%s", id, out.String())
	}
	out.Reset()
	if err := listImages(ctx, cli, imagesOptions{Quiet: true}, &out); err != nil || out.String() != id+"\n" {
		t.Errorf("images -q = %q, %v; want %s once", out.String(), err, id)
	}
	out.Reset()
	if err := listImages(ctx, cli, imagesOptions{Format: "{{.Repository}}:{{.Tag}}", Reference: "mine"}, &out); err != nil || out.String() != "mine:latest\n" {
		t.Errorf("images --format mine = %q, %v", out.String(), err)
	}

	tarball := filepath.Join(t.TempDir(), "saved.tar")
	if err := saveToFile(ctx, cli, []string{"mine"}, tarball); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err = removeImages(ctx, cli, []string{"nothing:here", "mine", ref}, false, &out)
	if err == nil || !strings.Contains(err.Error(), "nothing:here") {
		t.Errorf("rmi of a missing image: %v", err)
	}
	if !strings.Contains(out.String(), "Untagged: mine:latest\n") || !strings.Contains(out.String(), "Deleted: "+configID(t, ly)+"\n") {
		t.Errorf("rmi output:\n%s", out.String())
	}
	f, err := os.Open(tarball)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out.Reset()
	if err := loadImages(ctx, cli, f, false, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Loaded image: mine:latest\n") {
		t.Errorf("load output:\n%s", out.String())
	}
}

func configID(t *testing.T, img v1.Image) string {
	t.Helper()
	h, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

func TestImageRows(t *testing.T) {
	now := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	items := []image.Summary{
		{ID: "sha256:0123456789abcdef0000", RepoTags: []string{"busybox:latest", "host:5000/a/b:v1"}, RepoDigests: []string{"busybox@sha256:feed"}, Created: now.Add(-3 * 7 * 24 * time.Hour).Unix(), Size: 4_261_000},
		{ID: "sha256:fedcba9876543210ffff", Created: now.Add(-2 * time.Hour).Unix(), Size: 900},
	}
	got := imageRows(items, false, now)
	want := []imageRow{
		{Repository: "busybox", Tag: "latest", ID: "0123456789ab", Digest: "sha256:feed", CreatedSince: "3 weeks ago", Size: "4.26MB"},
		{Repository: "host:5000/a/b", Tag: "v1", ID: "0123456789ab", Digest: "<none>", CreatedSince: "3 weeks ago", Size: "4.26MB"},
		{Repository: "<none>", Tag: "<none>", ID: "fedcba987654", Digest: "<none>", CreatedSince: "2 hours ago", Size: "900B"},
	}
	if len(got) != len(want) {
		t.Fatalf("imageRows = %+v, want %d rows", got, len(want))
	}
	for i := range want {
		got[i].CreatedAt = ""
		if got[i] != want[i] {
			t.Errorf("row %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
