package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestAgentIsBuiltOnce(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the agent runs on Linux")
	}
	NeedCommand(t, "go")
	first := NeedAgent(t, "1.0.0-test")
	before, err := os.Stat(first)
	if err != nil {
		t.Fatal(err)
	}
	second := NeedAgent(t, "1.0.0-test")
	after, err := os.Stat(second)
	if err != nil {
		t.Fatal(err)
	}
	if second != first || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("second Agent = %s (%v), want the first build %s (%v) again", second, after.ModTime(), first, before.ModTime())
	}
	out, err := exec.Command(first, "version").Output()
	if got, want := strings.TrimSpace(string(out)), "1.0.0-test"; err != nil || got != want {
		t.Errorf("berth-agent version = %q, %v; want %q", got, err, want)
	}
}

func TestAgentSourceHashFollowsTheSource(t *testing.T) {
	NeedCommand(t, "go")
	root := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/m\n\ngo 1.22\n")
	write("cmd/berth-agent/main.go", "package main\n\nimport \"example.com/m/lib\"\n\nfunc main() { lib.F() }\n")
	write("lib/lib.go", "package lib\n\nfunc F() {}\n")
	write("other/other.go", "package other\n")
	hash := func() string {
		t.Helper()
		h, err := agentSourceHash(root)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	first := hash()
	if again := hash(); again != first {
		t.Fatalf("the same source hashes to %s and %s", first, again)
	}
	write("other/other.go", "package other\n\nvar X = 1\n")
	if got := hash(); got != first {
		t.Errorf("a package the agent does not import changed the hash")
	}
	write("lib/lib.go", "package lib\n\nfunc F() { println() }\n")
	if got := hash(); got == first {
		t.Errorf("a change in a package the agent imports left the hash as it was")
	}
}
