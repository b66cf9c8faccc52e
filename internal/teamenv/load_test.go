package teamenv

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/berthvm/berth/drivers/qemu"
	_ "github.com/berthvm/berth/drivers/virtualbox"
)

// envDir writes files (path -> content) into a fresh folder called shop.
func envDir(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "Shop Front")
	for p, c := range files {
		p = filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const goodFile = `machines:
  app:
    cpus: 2
    memory: 1GiB
    disk: 2GiB
    shares: [".:/src"]
    insecure-registries: ["10.0.2.2:5000"]
    compose: app/compose.yaml
    depends-on: [db]
  db:
    driver: virtualbox
    memory: 512MiB
    compose: [db/compose.yaml]
`

func TestLoadDefaults(t *testing.T) {
	dir := envDir(t, map[string]string{"berth.yaml": goodFile, "app/compose.yaml": "services: {}", "db/compose.yaml": "services: {}"})
	sub := filepath.Join(dir, "app")
	env, err := Load(LoadOptions{Dir: sub, DefaultDriver: "qemu"})
	if err != nil {
		t.Fatal(err)
	}
	if env.Name != "shop-front" {
		t.Errorf("name = %q, want the folder's name shop-front", env.Name)
	}
	if got := strings.Join(env.Names(), ","); got != "db,app" {
		t.Errorf("order = %s, want db,app (app depends on db)", got)
	}
	app, db := env.Machines["app"], env.Machines["db"]
	if app.FullName != "shop-front-app" || app.Driver != "qemu" || db.Driver != "virtualbox" {
		t.Errorf("app %s/%s, db %s", app.FullName, app.Driver, db.Driver)
	}
	if app.MemoryMB() != 1024 || app.DiskMB() != 2048 || app.CPUs != 2 || db.MemoryMB() != 512 {
		t.Errorf("sizes: app %d MB %d MB %d cpus, db %d MB", app.MemoryMB(), app.DiskMB(), app.CPUs, db.MemoryMB())
	}
	if len(app.Shares) != 1 || app.Shares[0].HostPath != dir || app.Shares[0].GuestPath != "/src" {
		t.Errorf("shares = %+v, want %s:/src", app.Shares, dir)
	}
	if app.Compose[0] != filepath.Join(dir, "app", "compose.yaml") {
		t.Errorf("compose = %v", app.Compose)
	}
}

func TestLoadOverride(t *testing.T) {
	dir := envDir(t, map[string]string{"berth.yaml": goodFile, "app/compose.yaml": "", "db/compose.yaml": "",
		"berth.override.yaml": "machines:\n  app:\n    memory: 768MiB\n    cpus: 1\n    shares: []\n"})
	env, err := Load(LoadOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	app := env.Machines["app"]
	if app.MemoryMB() != 768 || app.CPUs != 1 || len(app.Shares) != 0 || app.DiskMB() != 2048 {
		t.Errorf("after override: %d MB, %d cpus, shares %v, disk %d", app.MemoryMB(), app.CPUs, app.Shares, app.DiskMB())
	}
	if env.Override != filepath.Join(dir, OverrideName) {
		t.Errorf("override = %q", env.Override)
	}
	env, err = Load(LoadOptions{Dir: dir, NoOverride: true})
	if err != nil || env.Machines["app"].MemoryMB() != 1024 {
		t.Errorf("without the override: %v", err)
	}
}

func TestLoadProblems(t *testing.T) {
	tests := []struct {
		name, file, override string
		want                 []string
	}{
		{"unknown key", "machines:\n  app:\n    compose: c.yaml\n    memroy: 1GiB\n", "",
			[]string{`berth.yaml:4: machines.app.memroy: unknown key "memroy"`}},
		{"bad size", "machines:\n  app:\n    compose: c.yaml\n    memory: lots\n    disk: 20\n", "",
			[]string{`berth.yaml:4: machines.app.memory: "lots" is not a size`, `berth.yaml:5: machines.app.disk: "20" has no unit`}},
		{"too small", "machines:\n  app:\n    compose: c.yaml\n    memory: 1MiB\n", "",
			[]string{`berth.yaml:4: machines.app.memory: 1MiB is too small`}},
		{"missing compose", "machines:\n  app:\n    compose: nope.yaml\n", "",
			[]string{"berth.yaml:3: machines.app.compose: ", "nope.yaml does not exist"}},
		{"no compose", "machines:\n  app:\n    cpus: 1\n", "",
			[]string{"berth.yaml:2: machines.app: no compose file"}},
		{"cycle", "machines:\n  a:\n    compose: c.yaml\n    depends-on: [b]\n  b:\n    compose: c.yaml\n    depends-on: [c]\n  c:\n    compose: c.yaml\n    depends-on: [a]\n", "",
			[]string{"berth.yaml:4: machines.a.depends-on: depends-on cycle: a -> b -> c -> a"}},
		{"unknown dependency", "machines:\n  a:\n    compose: c.yaml\n    depends-on: [zz]\n", "",
			[]string{`berth.yaml:4: machines.a.depends-on: unknown machine "zz"`}},
		{"unknown driver", "machines:\n  a:\n    compose: c.yaml\n    driver: hyperv\n", "",
			[]string{`berth.yaml:4: machines.a.driver: unknown driver "hyperv"`}},
		{"bad cpus", "machines:\n  a:\n    compose: c.yaml\n    cpus: two\n", "",
			[]string{`berth.yaml:4: machines.a.cpus: "two": want a whole number`}},
		{"bad name", "name: Shop!\nmachines:\n  a:\n    compose: c.yaml\n", "",
			[]string{`berth.yaml:1: name: "Shop!" cannot prefix machine names`}},
		{"not yaml", "machines: [\n", "", []string{"berth.yaml:", "not valid YAML"}},
		{"empty", "", "", []string{"berth.yaml: the file is empty"}},
		{"list top", "- a\n", "", []string{"berth.yaml:1: want a mapping"}},
		{"duplicate", "machines:\n  a:\n    compose: c.yaml\n    cpus: 1\n    cpus: 2\n", "", []string{"berth.yaml:5: machines.a.cpus: duplicate key"}},
		{"override key", "machines:\n  a:\n    compose: c.yaml\n", "machines:\n  a:\n    disk: 1GiB\n",
			[]string{`berth.override.yaml:3: machines.a.disk: unknown key "disk" (known: cpus, memory, driver, shares)`}},
		{"override machine", "machines:\n  a:\n    compose: c.yaml\n", "machines:\n  b:\n    cpus: 1\n",
			[]string{`berth.override.yaml:2: machines.b: unknown machine "b"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"berth.yaml": tt.file, "c.yaml": ""}
			if tt.override != "" {
				files[OverrideName] = tt.override
			}
			dir := envDir(t, files)
			_, err := Load(LoadOptions{Dir: dir})
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			msg := strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q:\n%s", w, msg)
				}
			}
		})
	}
}

func TestFindNone(t *testing.T) {
	if _, err := Find(t.TempDir()); !errors.Is(err, ErrNoFile) {
		t.Errorf("Find in an empty folder: %v", err)
	}
	if _, err := Load(LoadOptions{File: filepath.Join(t.TempDir(), "x.yaml")}); !errors.Is(err, ErrNoFile) {
		t.Errorf("Load -f of a missing file: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(goodFile), []byte("machines:\n  app:\n    cpus: 1\n"))
	f.Add([]byte("name: x\nmachines:\n  a: &a\n    compose: c.yaml\n  b: *a\n"), []byte(""))
	f.Add([]byte("machines:\n  a:\n    depends-on: [a, b]\n  b:\n    depends-on: a\n"), []byte("machines: 3"))
	dir := envDir(f, map[string]string{"c.yaml": "", "app/compose.yaml": "", "db/compose.yaml": ""})
	f.Fuzz(func(t *testing.T, data, over []byte) {
		env, err := Parse(filepath.Join(dir, FileName), data, filepath.Join(dir, OverrideName), over, "qemu")
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error that is not ErrInvalid: %v", err)
			}
			return
		}
		if len(env.Machines) == 0 || env.cycle() != nil || len(env.Names()) != len(env.Machines) {
			t.Fatalf("accepted a bad environment: %+v", env)
		}
	})
}
