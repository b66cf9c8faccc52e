package teamenv

import (
	"fmt"
	"strings"

	"github.com/berthvm/berth/internal/machine"
)

// Drift says how the stored machine m differs from its environment's
// file (the berth.yaml its label names, with the override beside it),
// for `berth ls`: "" when it matches or belongs to no environment. Only
// the machine's settings are compared (services need its agent: berth
// plan).
func Drift(m *machine.Machine, defaultDriver string) string {
	name, file := m.Labels[LabelEnv], m.Labels[LabelEnvFile]
	if name == "" || file == "" {
		return ""
	}
	env, err := Load(LoadOptions{File: file, DefaultDriver: defaultDriver})
	if err != nil {
		return fmt.Sprintf("environment %s: %s cannot be read", name, file)
	}
	short, ok := strings.CutPrefix(m.Name, env.Name+"-")
	want := env.Machines[short]
	if env.Name != name || !ok || want == nil {
		return fmt.Sprintf("environment %s: %s no longer has this machine", name, file)
	}
	var diffs []string
	for _, c := range MachinePlan(want, m, true) {
		diffs = append(diffs, fmt.Sprintf("%s %s -> %s", c.Setting, c.From, c.To))
	}
	if len(diffs) == 0 {
		return ""
	}
	return fmt.Sprintf("drifted from %s: %s (berth plan)", FileName, strings.Join(diffs, ", "))
}
