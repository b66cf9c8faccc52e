package build

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParseDockerfile: any input parses or fails with ErrBadRequest
// naming the file; it never panics.
func FuzzParseDockerfile(f *testing.F) {
	for _, s := range []string{
		"FROM busybox\nRUN echo hi\n",
		"ARG B=busybox\nFROM ${B} AS one\nCOPY --from=one --chown=1:1 a b/\nFROM one\nCMD [\"sh\"]\n",
		"# escape=`\nFROM x\nRUN a `\n b\n",
		"FROM x\nRUN <<EOF\necho hi\nEOF\n",
		"FROM x\nHEALTHCHECK --interval=5s CMD true\nONBUILD RUN true\nSHELL [\"/bin/sh\", \"-c\"]\n",
		"FROM x\nFOO bar\n",
		"RUN true\n",
		"FROM x\nEXPOSE 80/tcp 9000-9002/udp\n",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		df, err := parseDockerfile("Dockerfile", []byte(src))
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("error is not a bad request: %v", err)
			}
			if !strings.HasPrefix(err.Error(), "Dockerfile") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if len(df.stages) == 0 {
			t.Fatal("parsed without a stage")
		}
		for _, s := range df.stages {
			for _, c := range s.Commands {
				_ = text(c)
				_ = lineOf(c)
			}
		}
	})
}

// TestParseErrorsNameLine: syntax errors name the file and the line.
func TestParseErrorsNameLine(t *testing.T) {
	tests := []struct{ src, want string }{
		{"FROM busybox\nRUN true\nFOO bar\n", "Dockerfile.dev:3: unknown instruction: FOO"},
		{"FROM busybox\n\nCOPY onlyone\n", "Dockerfile.dev:3: COPY requires at least two arguments"},
		{"RUN true\n", "Dockerfile.dev:1: no build stage"},
		{"# comment only\n", "Dockerfile.dev:1: file with no instructions"},
	}
	for _, tc := range tests {
		_, err := parseDockerfile("Dockerfile.dev", []byte(tc.src))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("parse %q: %v, want %q", tc.src, err, tc.want)
		}
	}
}

func TestExposedPorts(t *testing.T) {
	got, err := exposedPorts([]string{"80", "9000-9001/udp", "53/TCP"})
	if err != nil || strings.Join(got, " ") != "80/tcp 9000/udp 9001/udp 53/tcp" {
		t.Errorf("exposedPorts = %v, %v", got, err)
	}
	for _, bad := range []string{"x", "80/foo", "90-80"} {
		if _, err := exposedPorts([]string{bad}); err == nil {
			t.Errorf("exposedPorts(%q) took it", bad)
		}
	}
}
