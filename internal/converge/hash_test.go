package converge

import (
	"context"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"

	"github.com/berthvm/berth/internal/testagent"
)

// hashProject uses most of what a service can say, so that a difference
// in how berth and compose v5 load or hash it shows.
var hashProject = map[string]string{
	"compose.yaml": `services:
  web:
    image: busybox
    extra_hosts: ["host.docker.internal:host-gateway"]
    env_file: [a.env]
    environment: [B=2, C]
    ports: ["8080:80", "127.0.0.1:9000-9001:9000-9001/udp"]
    volumes: ["./site:/site:ro", "data:/data", {type: tmpfs, target: /tmp}]
    healthcheck: {test: "wget -q -O- localhost", interval: 1s, retries: 3}
    networks: {back: {aliases: [w]}, default: {}}
    deploy: {replicas: 2, resources: {limits: {memory: 64M}}}
    depends_on: {db: {condition: service_healthy}}
    labels: [a=b]
    stop_grace_period: 3s
    restart: unless-stopped
    working_dir: /w
    user: "1000:1000"
    entrypoint: ["/bin/sh", "-c"]
    command: "echo hi"
    profiles: [web]
  db:
    image: busybox:${TAG:-1.36}
    command: echo ${MSG}
    scale: 2
volumes: {data: {}}
networks: {back: {}}
`,
	"a.env": "X=1\n",
	".env":  "MSG=hi\n",
}

// TestServiceHashMatchesComposeV5: berth's config hash of each service is
// the one docker compose v5 computes (`config --hash`), so compose finds
// berth's containers up to date.
func TestServiceHashMatchesComposeV5(t *testing.T) {
	bin := testagent.ComposeV5(t)
	dir := t.TempDir()
	writeFiles(t, dir, hashProject)
	p, err := Load(context.Background(), LoadOptions{Files: []string{"compose.yaml"}, WorkDir: dir, Name: "shop", Profiles: []string{"web"}})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, name := range sortedServices(p) {
		h, err := ServiceHash(p.Services[name])
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, name+" "+h)
	}
	cmd := exec.Command(bin, "-p", "shop", "--profile", "web", "config", "--hash", "*")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DOCKER_HOST=unix:///nonexistent.sock")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("compose v5 config --hash: %v: %s", err, out)
	}
	got := strings.Split(strings.TrimSpace(string(out)), "\n")
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("compose v5's hashes:\n%s\nberth's:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestServiceHashIgnoresScaleAndDependencies(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, hashProject)
	p, err := Load(context.Background(), LoadOptions{Files: []string{"compose.yaml"}, WorkDir: dir, Name: "shop", Profiles: []string{"web"}})
	if err != nil {
		t.Fatal(err)
	}
	s := p.Services["web"]
	base, _ := ServiceHash(s)
	one := 1
	s2 := s
	s2.DependsOn, s2.Profiles, s2.Scale = nil, nil, &one
	d := *s.Deploy
	d.Replicas = &one
	s2.Deploy = &d
	if h, _ := ServiceHash(s2); h != base {
		t.Errorf("hash moved with scale, replicas, depends_on or profiles: %s, was %s", h, base)
	}
	s2.User = "0"
	if h, _ := ServiceHash(s2); h == base {
		t.Error("hash did not move with the user")
	}
}
