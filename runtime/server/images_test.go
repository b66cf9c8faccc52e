package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testimages"
	"github.com/berthvm/berth/internal/testregistry"
	"github.com/moby/moby/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// imageServer serves an agent with a fresh state folder, next to a
// registry (with basic auth) holding busybox.
func imageServer(t *testing.T) (sock string, reg *testregistry.Registry) {
	t.Helper()
	testenv.NeedRoot(t)
	reg = testregistry.Start(t, testregistry.Options{User: "berth", Password: "pw"})
	bb, err := testimages.Busybox()
	if err != nil {
		t.Fatal(err)
	}
	if err := testimages.Push(context.Background(), reg.Host+"/busybox:latest", bb, "berth", "pw"); err != nil {
		t.Fatal(err)
	}
	return startServer(t, New(Options{StateDir: t.TempDir()})), reg
}

func registryAuth(user, pass string) string {
	b, _ := json.Marshal(map[string]string{"username": user, "password": pass})
	return base64.URLEncoding.EncodeToString(b)
}

func TestImagesAPI(t *testing.T) {
	sock, reg := imageServer(t)
	ctx := context.Background()
	cli, err := client.New(client.WithHost("unix://" + sock))
	if err != nil {
		t.Fatal(err)
	}
	ref := reg.Host + "/busybox:latest"

	// Without credentials: an error in the status, before any stream.
	if _, err := cli.ImagePull(ctx, ref, client.ImagePullOptions{}); err == nil || !strings.Contains(err.Error(), "pull access denied") {
		t.Errorf("pull without credentials: %v, want pull access denied", err)
	}
	// A platform this machine cannot run: refused before the registry
	// is asked (mips64: no qemu-user binfmt entry berth knows covers it).
	if _, err := cli.ImagePull(ctx, ref, client.ImagePullOptions{RegistryAuth: registryAuth("berth", "pw"),
		Platforms: []ocispec.Platform{{OS: "linux", Architecture: "mips64"}}}); err == nil || !strings.Contains(err.Error(), "linux/mips64: this machine runs linux/"+runtime.GOARCH) {
		t.Errorf("pull for linux/mips64: %v, want a refusal naming the platforms this machine runs", err)
	}
	resp, err := cli.ImagePull(ctx, ref, client.ImagePullOptions{RegistryAuth: registryAuth("berth", "pw")})
	if err != nil {
		t.Fatal(err)
	}
	var statuses []string
	for m, err := range resp.JSONMessages(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		statuses = append(statuses, m.Status)
	}
	if got := strings.Join(statuses, "|"); !strings.Contains(got, "Pull complete") || !strings.Contains(got, "Status: Downloaded newer image for "+ref) {
		t.Errorf("pull stream = %s", got)
	}

	list, err := cli.ImageList(ctx, client.ImageListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 || len(list.Items[0].RepoTags) != 1 || list.Items[0].RepoTags[0] != ref {
		t.Fatalf("ImageList = %+v, want one image tagged %s", list.Items, ref)
	}
	id := list.Items[0].ID
	insp, err := cli.ImageInspect(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if insp.ID != id || strings.Join(insp.Config.Cmd, " ") != "sh" || insp.Os != "linux" || len(insp.RootFS.Layers) != 1 {
		t.Errorf("ImageInspect = %+v", insp.InspectResponse)
	}
	if _, err := cli.ImageInspect(ctx, "nothing:here"); err == nil || !strings.Contains(err.Error(), "no such image") {
		t.Errorf("inspect of a missing image: %v", err)
	}
	if _, err := cli.ImageTag(ctx, client.ImageTagOptions{Source: ref, Target: "mybox:v1"}); err != nil {
		t.Fatal(err)
	}
	if insp, err := cli.ImageInspect(ctx, "mybox:v1"); err != nil || insp.ID != id {
		t.Errorf("inspect of the new tag: %v, %v", insp.ID, err)
	}

	save, err := cli.ImageSave(ctx, []string{"mybox:v1"})
	if err != nil {
		t.Fatal(err)
	}
	tarball, err := io.ReadAll(save)
	save.Close()
	if err != nil || len(tarball) < 1024 {
		t.Fatalf("save: %d bytes, %v", len(tarball), err)
	}

	del, err := cli.ImageRemove(ctx, id, client.ImageRemoveOptions{})
	if err == nil || !strings.Contains(err.Error(), "must be forced") {
		t.Errorf("remove by ID of an image with two tags: %+v, %v; want a conflict", del, err)
	}
	del, err = cli.ImageRemove(ctx, id, client.ImageRemoveOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(del.Items); n < 3 {
		t.Errorf("forced remove = %+v, want untags and deletes", del.Items)
	}

	load, err := cli.ImageLoad(ctx, bytes.NewReader(tarball))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(load)
	load.Close()
	if !strings.Contains(string(out), "Loaded image: mybox:v1") {
		t.Errorf("load answered %s", out)
	}
	if insp, err := cli.ImageInspect(ctx, "mybox:v1"); err != nil || insp.ID != id {
		t.Errorf("inspect after load: %v, %v", insp.ID, err)
	}

	// Each step was an image event, as Docker names them.
	// Until is a second ahead: clients send durations ("0s") in whole
	// seconds, which would leave out the events of this second.
	evs := cli.Events(ctx, client.EventsListOptions{Since: "1h", Until: strconv.FormatInt(time.Now().Unix()+1, 10), Filters: make(client.Filters).Add("type", "image")})
	var got []string
	for done := false; !done; {
		select {
		case m := <-evs.Messages:
			got = append(got, fmt.Sprintf("%s %s %s", m.Action, m.Actor.ID, m.Actor.Attributes["name"]))
		case err := <-evs.Err: // io.EOF at the end of the stream
			if !errors.Is(err, io.EOF) {
				t.Fatalf("events: %v", err)
			}
			done = true
		case <-time.After(10 * time.Second):
			t.Fatalf("events stream not ended after 10s; got %q", got)
		}
	}
	wantRE := "^pull " + regexp.QuoteMeta(ref+" "+reg.Host+"/busybox") + "\n" +
		"tag " + id + " mybox:v1\n" +
		"(untag " + id + " [^\n]+\n)+" +
		"delete " + id + " " + id + "\n" +
		"load " + id + " mybox:v1$"
	if all := strings.Join(got, "\n"); !regexp.MustCompile(wantRE).MatchString(all) {
		t.Errorf("image events:\n%s\nwant pull, tag, untags, delete, load", all)
	}
}

// TestDockerCLIAgainstImagesAPI drives the agent with the real docker CLI.
func TestDockerCLIAgainstImagesAPI(t *testing.T) {
	testenv.NeedCommand(t, "docker")
	sock, reg := imageServer(t)
	ref := reg.Host + "/busybox:latest"
	docker := func(args ...string) (string, error) {
		cmd := exec.Command("docker", append([]string{"-H", "unix://" + sock}, args...)...)
		cmd.Env = append(cmd.Environ(), "DOCKER_CONFIG="+t.TempDir())
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := docker("pull", ref); err == nil || !strings.Contains(out, "pull access denied") {
		t.Errorf("docker pull without login: %v\n%s", err, out)
	}
	// docker login would store credentials; pass them the way it does.
	out, err := docker("pull", "127.0.0.1:1/x:y")
	if err == nil {
		t.Errorf("docker pull of a bad registry succeeded: %s", out)
	}
	out, err = docker("images", "--format", "{{.Repository}}:{{.Tag}}")
	if err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("docker images on an empty store: %v %q", err, out)
	}
	open := testregistry.Start(t, testregistry.Options{})
	hello, err := testimages.HelloIndex()
	if err != nil {
		t.Fatal(err)
	}
	if err := testimages.PushIndex(context.Background(), open.Host+"/hello:latest", hello, "", ""); err != nil {
		t.Fatal(err)
	}
	out, err = docker("pull", open.Host+"/hello")
	if err != nil || !strings.Contains(out, "Pull complete") || !strings.Contains(out, "Status: Downloaded newer image for "+open.Host+"/hello:latest") {
		t.Errorf("docker pull: %v\n%s", err, out)
	}
	out, err = docker("images", "--format", "{{.Repository}}:{{.Tag}} {{.Size}}")
	if err != nil || !strings.HasPrefix(out, open.Host+"/hello:latest ") {
		t.Errorf("docker images: %v %q", err, out)
	}
	out, err = docker("rmi", open.Host+"/hello")
	if err != nil || !strings.Contains(out, "Untagged: "+open.Host+"/hello:latest") || !strings.Contains(out, "Deleted: sha256:") {
		t.Errorf("docker rmi: %v\n%s", err, out)
	}
	// A platform the machine cannot run is refused by name, as berth pull
	// --platform refuses it.
	other := map[string]string{"amd64": "linux/arm64", "arm64": "linux/amd64"}[runtime.GOARCH]
	if other != "" {
		out, err = docker("pull", "--platform", other, open.Host+"/hello")
		if err == nil || !strings.Contains(out, "a platform this machine cannot run: "+other) {
			t.Errorf("docker pull --platform %s: %v\n%s", other, err, out)
		}
	}
}
