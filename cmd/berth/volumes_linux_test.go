package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/moby/moby/client"
)

// TestRunVolumes: berth run -v NAME:/path keeps data across containers,
// --read-only refuses writes, against the real agent.
func TestRunVolumes(t *testing.T) {
	api, reg := registryAgent(t)
	ctx := context.Background()
	tests := []struct {
		name     string
		opts     runOptions
		want     string
		wantCode int
	}{
		{"write", runOptions{Volumes: []string{"keep:/d"}, Args: []string{"sh", "-c", "echo kept > /d/f"}}, "", 0},
		{"read in a new container", runOptions{Volumes: []string{"keep:/d"}, Args: []string{"cat", "/d/f"}}, "kept\n", 0},
		{"read-only root", runOptions{ReadOnly: true, Tmpfs: []string{"/t"}, Args: []string{"sh", "-c", "touch /t/ok && ! touch /x 2>/dev/null && echo refused"}}, "refused\n", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			tc.opts.Image, tc.opts.Remove = reg+"/busybox", true
			err := runContainer(ctx, api, tc.opts, nil, &out, &errOut)
			if out.String() != tc.want || codeOf(err) != tc.wantCode {
				t.Errorf("got %q exit %d (%v), want %q exit %d; stderr %q", out.String(), codeOf(err), err, tc.want, tc.wantCode, errOut.String())
			}
		})
	}
}

// TestVolumeCommands: berth volume create/ls/inspect/rm against the real
// agent; a named volume survives its container's removal and refuses rm
// while a container uses it; anonymous volumes go with --rm and rm -v.
func TestVolumeCommands(t *testing.T) {
	api, reg := registryAgent(t)
	ctx := context.Background()
	var out, errOut bytes.Buffer
	step := func(what string, err error, want string) string {
		t.Helper()
		got := out.String()
		if err != nil || (want != "*" && got != want) {
			t.Fatalf("%s: %q, %v; want %q; stderr %q", what, got, err, want, errOut.String())
		}
		out.Reset()
		return got
	}
	step("create", createVolume(ctx, api, volumeCreateOptions{Name: "data", Labels: []string{"app=web"}}, &out), "data\n")
	step("ls", listVolumes(ctx, api, volumeLsOptions{}, &out), "DRIVER    VOLUME NAME\nlocal     data\n")
	step("inspect", inspectVolumes(ctx, api, []string{"data"}, "{{.Name}} {{.Driver}} {{.Labels}}", &out), "data local map[app:web]\n")
	if err := inspectVolumes(ctx, api, []string{"nope", "data"}, "{{.Name}}", &out); err == nil || !strings.Contains(err.Error(), "nope") || out.String() != "data\n" {
		t.Errorf("inspect nope data: %q, %v; want data printed and an error for nope", out.String(), err)
	}
	out.Reset()

	step("write", runContainer(ctx, api, runOptions{Image: reg + "/busybox", Remove: true,
		Volumes: []string{"data:/d"}, Args: []string{"sh", "-c", "echo kept > /d/f"}}, nil, &out, &errOut), "")
	step("run -d", runContainer(ctx, api, runOptions{Image: reg + "/busybox", Detach: true, Name: "user",
		Volumes: []string{"data:/d", "/anon"}, Args: []string{"sleep", "300"}}, nil, &out, &errOut), "*")
	err := removeVolumes(ctx, api, []string{"data"}, false, &out)
	if err == nil || !strings.Contains(err.Error(), "volume is in use") {
		t.Errorf("volume rm of a volume in use: %v, want \"volume is in use\"", err)
	}
	out.Reset()
	m := step("inspect the container", inspectContainers(ctx, api, []string{"user"}, "{{range .Mounts}}{{.Type}}:{{.Destination}} {{end}}", &out), "*")
	if !strings.Contains(m, "volume:/d") || !strings.Contains(m, "volume:/anon") {
		t.Errorf("container Mounts = %q, want volume:/d and volume:/anon", m)
	}
	m = step("ps .Mounts", listContainers(ctx, api, psOptions{Format: "{{.Mounts}}"}, &out), "*")
	if !strings.HasPrefix(m, "data,") && !strings.HasSuffix(m, ",data\n") || !strings.Contains(m, "…") {
		t.Errorf("ps --format {{.Mounts}} = %q, want data and the anonymous volume's name cut with …", m)
	}
	step("dangling", listVolumes(ctx, api, volumeLsOptions{Quiet: true, Filters: []string{"dangling=true"}}, &out), "")
	if _, err := api.ContainerRemove(ctx, "user", client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
		t.Fatal(err)
	}
	step("ls after rm -v", listVolumes(ctx, api, volumeLsOptions{Quiet: true}, &out), "data\n")
	step("the data survives", runContainer(ctx, api, runOptions{Image: reg + "/busybox", Remove: true,
		Volumes: []string{"data:/d", "/anon"}, Args: []string{"cat", "/d/f"}}, nil, &out, &errOut), "kept\n")
	step("ls after run --rm", listVolumes(ctx, api, volumeLsOptions{Quiet: true}, &out), "data\n")
	step("rm", removeVolumes(ctx, api, []string{"data"}, false, &out), "data\n")
	step("ls after rm", listVolumes(ctx, api, volumeLsOptions{Quiet: true}, &out), "")

	step("create named", createVolume(ctx, api, volumeCreateOptions{Name: "named"}, &out), "named\n")
	step("create anonymous", createVolume(ctx, api, volumeCreateOptions{Name: "anon1", Labels: []string{"com.docker.volume.anonymous="}}, &out), "anon1\n")
	step("prune", pruneVolumes(ctx, api, volumePruneOptions{Force: true}, nil, &out), "Deleted Volumes:\nanon1\n\nTotal reclaimed space: 0B\n")
	step("prune asks", pruneVolumes(ctx, api, volumePruneOptions{All: true}, strings.NewReader("n\n"), &out),
		"WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ")
	step("prune --all", pruneVolumes(ctx, api, volumePruneOptions{All: true, Force: true}, nil, &out), "Deleted Volumes:\nnamed\n\nTotal reclaimed space: 0B\n")
}
