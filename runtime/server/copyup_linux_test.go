package server

import (
	"archive/tar"
	"bytes"
	"runtime"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/berthvm/berth/internal/testimages"
)

// volumeImage is busybox with /data/seed and VOLUME /data.
func volumeImage(t *testing.T) v1.Image {
	t.Helper()
	files, err := testimages.BusyboxFiles()
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, testimages.File{Name: "data/", Type: tar.TypeDir}, testimages.File{Name: "data/seed", Body: []byte("seeded\n")})
	l, err := testimages.Layer(files, false)
	if err != nil {
		t.Fatal(err)
	}
	img, err := testimages.Build(runtime.GOARCH, []v1.Layer{l}, []string{"sh"}, []string{"PATH=/bin"}, false)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Config.Volumes = map[string]struct{}{"/data": {}}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestDockerCLIVolumeCopyUp: an empty volume mounted over a folder of the
// image gets the folder's files (symlinks as symlinks, the folder's mode),
// a volume with data keeps it, and an image's VOLUME gets an anonymous
// volume seeded the same way, gone with --rm. The expected outputs are the
// machine's Docker Engine's for the same commands.
func TestDockerCLIVolumeCopyUp(t *testing.T) {
	a := startAgent(t)
	var archive bytes.Buffer
	if err := testimages.WriteDockerArchive(&archive, map[string]v1.Image{"vimg:latest": volumeImage(t)}); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := docker(t, a.sock, archive.String(), "load"); code != 0 {
		t.Fatalf("docker load: %s %s", out, errOut)
	}
	applets, _, _ := docker(t, a.sock, "", "run", "--rm", "busybox", "sh", "-c", "ls /bin | wc -l")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"empty volume gets the image's folder", []string{"run", "--rm", "-v", "cu:/bin", "busybox", "sh", "-c", "ls /bin | wc -l; readlink /bin/sh"}, applets + "busybox\n"},
		{"the volume keeps it", []string{"run", "--rm", "-v", "cu:/mnt", "busybox", "readlink", "/mnt/sh"}, "busybox\n"},
		{"the folder's mode", []string{"run", "--rm", "-v", "rv:/root", "busybox", "stat", "-c", "%a %U", "/root"}, "700 root\n"},
		{"a volume with data is left alone", []string{"run", "--rm", "-v", "cu:/root", "busybox", "sh", "-c", "ls /root | wc -l"}, applets},
		{"image VOLUME seeded", []string{"run", "--rm", "vimg", "cat", "/data/seed"}, "seeded\n"},
		{"-v /PATH seeded", []string{"run", "--rm", "-v", "/data", "vimg", "cat", "/data/seed"}, "seeded\n"},
		{"--rm removed the anonymous volumes", []string{"volume", "ls", "-q"}, "cu\nrv\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := docker(t, a.sock, "", tc.args...)
			if out != tc.want || code != 0 {
				t.Errorf("docker %s = %q (exit %d, stderr %q), want %q", strings.Join(tc.args, " "), out, code, errOut, tc.want)
			}
		})
	}
	if _, errOut, code := docker(t, a.sock, "", "run", "-d", "--name", "v1", "vimg", "sleep", "300"); code != 0 {
		t.Fatalf("run -d: %s", errOut)
	}
	if out, _, _ := docker(t, a.sock, "", "inspect", "-f", "{{range .Mounts}}{{.Type}} {{.Destination}} {{len .Name}}{{end}}", "v1"); out != "volume /data 64\n" {
		t.Errorf("Mounts of a container of an image with VOLUME /data = %q, want an anonymous volume on /data", out)
	}
}
