package sshutil

import "testing"

func TestCommandLine(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, ""},
		{[]string{"cat /etc/os-release | grep VERSION"}, "cat /etc/os-release | grep VERSION"},
		{[]string{"uname", "-a"}, "uname -a"},
		{[]string{"sh", "-c", "exit 7"}, "sh -c 'exit 7'"},
		{[]string{"echo", "it's", ""}, `echo 'it'\''s' ''`},
		{[]string{"echo", "$HOME", "a;b"}, `echo '$HOME' 'a;b'`},
	}
	for _, tt := range tests {
		if got := CommandLine(tt.args); got != tt.want {
			t.Errorf("CommandLine(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
}
