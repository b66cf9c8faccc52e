package runspec

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
)

// securityOpts are the --security-opt values as the API takes them: like
// the docker CLI, seccomp=FILE sends the profile's JSON, compacted.
func securityOpts(opts []string) ([]string, error) {
	var out []string
	for _, o := range opts {
		if file, ok := strings.CutPrefix(o, "seccomp="); ok && file != "unconfined" {
			b, err := os.ReadFile(file)
			if err != nil {
				return nil, invalidf("--security-opt seccomp: read the profile: %w", err)
			}
			var buf bytes.Buffer
			if err := json.Compact(&buf, b); err != nil {
				return nil, invalidf("--security-opt seccomp: %s is not JSON: %w", file, err)
			}
			o = "seccomp=" + buf.String()
		}
		out = append(out, o)
	}
	return out, nil
}
