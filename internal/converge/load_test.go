package converge

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeFiles writes name -> content under dir.
func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"compose.yaml": `services:
  web:
    image: busybox:${TAG:-latest}
    environment:
      FROM_DOTENV: ${DOTENV}
      FROM_OPTION: ${OPT}
    env_file: [web.env]
    volumes: ["./site:/site"]
  debug:
    image: busybox
    profiles: [debug]
include:
  - db/compose.yaml
`,
		"compose.override.yaml": `services:
  web:
    command: ["echo", "overridden"]
`,
		".env":    "DOTENV=from-dotenv\nTAG=1.36\nOPT=from-dotenv\n",
		"web.env": "FROM_FILE=file\n",
		"db/compose.yaml": `services:
  db:
    image: busybox
    volumes: ["data:/data"]
volumes:
  data:
networks:
  unused:
`,
	})
	p, err := Load(context.Background(), LoadOptions{
		Files:   []string{"compose.yaml", "compose.override.yaml"},
		WorkDir: dir,
		Name:    "shop",
		Env:     map[string]string{"OPT": "from-option"},
	})
	if err != nil {
		t.Fatal(err)
	}
	web := p.Services["web"]
	env := envList(web.Environment)
	checks := []struct{ what, got, want string }{
		{"name", p.Name, "shop"},
		{"image from .env", web.Image, "busybox:1.36"},
		{"environment", strings.Join(env, " "), "FROM_DOTENV=from-dotenv FROM_FILE=file FROM_OPTION=from-option"},
		{"env_file dropped once read", strings.Join(func() []string {
			var s []string
			for _, f := range web.EnvFiles {
				s = append(s, f.Path)
			}
			return s
		}(), ","), ""},
		{"override", strings.Join(web.Command, " "), "echo overridden"},
		{"bind made absolute", web.Volumes[0].Source, filepath.Join(dir, "site")},
		{"services (profile debug off, include on)", strings.Join(p.ServiceNames(), ","), "db,web"},
		{"volume named for the project", p.Volumes["data"].Name, "shop_data"},
		{"default network only", strings.Join(p.NetworkNames(), ","), "default"},
		{"default network's name", p.Networks["default"].Name, "shop_default"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}

	p, err = Load(context.Background(), LoadOptions{Files: []string{filepath.Join(dir, "compose.yaml")}, Profiles: []string{"debug"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.ServiceNames(); !slices.Equal(got, []string{"db", "debug", "web"}) || p.Name != strings.ToLower(filepath.Base(dir)) || p.WorkingDir != dir {
		t.Errorf("with profile debug, no name or folder: services %v, name %q, folder %q", got, p.Name, p.WorkingDir)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"bad-yaml.yaml":    "services:\n  web: [\n",
		"unknown.yaml":     "services:\n  web:\n    image: busybox\n    imagee: x\n",
		"cycle.yaml":       "services:\n  a:\n    image: busybox\n    depends_on: [b]\n  b:\n    image: busybox\n    depends_on: [a]\n",
		"missing-dep.yaml": "services:\n  a:\n    image: busybox\n    depends_on: [nope]\n",
	})
	tests := []struct {
		file string
		want string
	}{
		{"bad-yaml.yaml", "bad-yaml.yaml"},
		{"unknown.yaml", "imagee"},
		{"cycle.yaml", "cycle"},
		{"missing-dep.yaml", "nope"},
		{"nosuch.yaml", "nosuch.yaml"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			_, err := Load(context.Background(), LoadOptions{Files: []string{tc.file}, WorkDir: dir, Name: "shop"})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load(%s) = %v, want an error naming %q", tc.file, err, tc.want)
			}
		})
	}
	for _, svc := range []string{
		"services:\n  a:\n    image: busybox\n    volumes_from: [b]\n  b:\n    image: busybox\n",
		"services:\n  a:\n    image: busybox\n    network_mode: service:b\n  b:\n    image: busybox\n",
	} {
		writeFiles(t, dir, map[string]string{"unsupported.yaml": svc})
		p, err := Load(context.Background(), LoadOptions{Files: []string{"unsupported.yaml"}, WorkDir: dir, Name: "shop"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Plan(context.Background(), nil, p); err == nil || !strings.Contains(err.Error(), "service a:") {
			t.Errorf("Plan of %q = %v, want an error naming service a", svc, err)
		}
	}
	if _, err := Load(context.Background(), LoadOptions{}); err == nil {
		t.Error("Load with no file: no error")
	}
	if _, err := Load(context.Background(), LoadOptions{Files: []string{"unknown.yaml"}, WorkDir: dir, Name: "Bad Name"}); err == nil {
		t.Error("Load with a bad project name: no error")
	}
}

// FuzzLoad feeds arbitrary compose text to Load: it may refuse it, but
// must not panic, and what it accepts must plan (container requests can
// be made or are refused with an error).
func FuzzLoad(f *testing.F) {
	for _, s := range []string{
		"services:\n  web:\n    image: busybox\n",
		"services:\n  web:\n    image: busybox\n    ports: [\"8080:80\"]\n    volumes: [\"data:/d\", \"./x:/x:ro\"]\nvolumes:\n  data:\n",
		"services:\n  a:\n    image: x\n    depends_on:\n      b:\n        condition: service_healthy\n  b:\n    image: y\n    healthcheck:\n      test: [\"CMD\", \"true\"]\n",
		"services:\n  a:\n    image: ${IMG:-busybox}\n    deploy:\n      replicas: 3\n    restart: on-failure:2\n",
		"name: x\nservices: {}\n",
		"services:\n  a:\n    build: .\n",
		"include: [other.yaml]\n",
		"services:\n  a:\n    image: busybox\n    extends: {file: a.yaml, service: b}\n",
		"",
		"{",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{"compose.yaml": text})
		p, err := Load(context.Background(), LoadOptions{Files: []string{"compose.yaml"}, WorkDir: dir, Name: "fuzz"})
		if err != nil {
			return
		}
		if checkSupported(p) != nil {
			return
		}
		for _, name := range sortedServices(p) {
			s := p.Services[name]
			if _, err := ServiceHash(s); err != nil {
				t.Fatalf("service %s loaded but has no hash: %v", name, err)
			}
			for n := 1; n <= s.GetScale() && n <= 3; n++ {
				o, err := createOptions(p, s, n, "h", "i")
				if err == nil && (o.Config.Labels[LabelProject] != "fuzz" || o.Config.Labels[LabelService] != name) {
					t.Fatalf("service %s: labels %v", name, o.Config.Labels)
				}
			}
		}
	})
}
