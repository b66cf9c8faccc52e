package runspec

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// ReadEnv merges --env-file files then -e values; NAME alone takes the
// value getenv gives and is dropped when unset, like docker.
func ReadEnv(env, files []string, getenv func(string) (string, bool)) ([]string, error) {
	var out []string
	add := func(kv string) {
		if !strings.Contains(kv, "=") {
			v, ok := getenv(kv)
			if !ok {
				return
			}
			kv += "=" + v
		}
		out = append(out, kv)
	}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, fmt.Errorf("read env file: %w", err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			add(line)
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("read env file %s: %w", f, err)
		}
	}
	for _, kv := range env {
		add(kv)
	}
	return out, nil
}
