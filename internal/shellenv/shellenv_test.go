package shellenv

import (
	"strings"
	"testing"
)

func TestDetect(t *testing.T) {
	tests := []struct {
		goos string
		env  map[string]string
		want string
	}{
		{"linux", map[string]string{"SHELL": "/bin/bash"}, "bash"},
		{"darwin", map[string]string{"SHELL": "/bin/zsh"}, "zsh"},
		{"linux", map[string]string{"SHELL": "/usr/bin/fish"}, "fish"},
		{"linux", map[string]string{"SHELL": "/bin/csh"}, "tcsh"},
		{"linux", map[string]string{"SHELL": "/bin/dash"}, "sh"},
		{"linux", map[string]string{}, "sh"},
		{"windows", map[string]string{"PSModulePath": `a;b;c`}, "powershell"},
		{"windows", map[string]string{}, "cmd"},
		{"windows", map[string]string{"SHELL": `C:\Program Files\Git\usr\bin\bash.exe`}, "bash"},
	}
	for _, tt := range tests {
		got := Detect(tt.goos, func(k string) string { return tt.env[k] })
		if got != tt.want {
			t.Errorf("Detect(%s, %v) = %q, want %q", tt.goos, tt.env, got, tt.want)
		}
	}
}

func TestWriteQuotes(t *testing.T) {
	var b strings.Builder
	if err := Write(&b, "bash", []Var{{Name: "X", Value: `a "b" $c`}}, "berth env m"); err != nil {
		t.Fatal(err)
	}
	want := "export X=\"a \\\"b\\\" \\$c\"\n# Run this command to configure your shell:\n# eval $(berth env m)\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
	if err := Write(&b, "ksh93", nil, ""); err == nil {
		t.Error("an unknown shell gave no error")
	}
}
