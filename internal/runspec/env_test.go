package runspec

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestReadEnv(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "app.env")
	if err := os.WriteFile(file, []byte("# comment\nFROM_FILE=1\n\n  SPACED=2  \nPASSED\nA=file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) (string, bool) {
		if k == "PASSED" {
			return "p", true
		}
		return "", false
	}
	tests := []struct {
		name       string
		env, files []string
		want       []string
	}{
		{"none", nil, nil, nil},
		{"-e", []string{"A=1", "B="}, nil, []string{"A=1", "B="}},
		{"-e NAME passes this one on, or nothing", []string{"PASSED", "UNSET"}, nil, []string{"PASSED=p"}},
		{"files first, then -e", []string{"A=flag"}, []string{file},
			[]string{"FROM_FILE=1", "SPACED=2", "PASSED=p", "A=file", "A=flag"}},
	}
	for _, tt := range tests {
		got, err := ReadEnv(tt.env, tt.files, getenv)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: ReadEnv = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	if _, err := ReadEnv(nil, []string{filepath.Join(dir, "missing")}, getenv); err == nil {
		t.Error("ReadEnv of a missing file succeeded")
	}
}
