package sshutil

import "strings"

// Quote quotes s as one word for a POSIX shell.
func Quote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// CommandLine is the command line the remote shell runs for args, as
// OpenSSH's client sends it for one argument (the user's own shell
// command line, left as it is), and as docker exec keeps argv for
// several: each argument quoted so that the remote shell sees the same
// words.
func CommandLine(args []string) string {
	if len(args) == 1 {
		return args[0]
	}
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = Quote(a)
	}
	return strings.Join(q, " ")
}
