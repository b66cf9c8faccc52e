package teamenv

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/berthvm/berth/internal/machine"
)

// ErrNoFile marks a folder with no berth.yaml in it or above it.
var ErrNoFile = errors.New("no " + FileName + " found")

// Find returns the path of berth.yaml in dir or its nearest parent.
func Find(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; {
		p := filepath.Join(d, FileName)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
		up := filepath.Dir(d)
		if up == d {
			return "", fmt.Errorf("%w in %s or any folder above it (write one, or name it with -f FILE)", ErrNoFile, abs)
		}
		d = up
	}
}

// LoadOptions say which file to load and how to fill what it leaves out.
type LoadOptions struct {
	// File is berth.yaml's path (-f); empty means Find(Dir).
	File string
	// Dir is the working folder (default: the current one).
	Dir string
	// DefaultDriver is the driver of machines that name none.
	DefaultDriver string
	// NoOverride ignores berth.override.yaml.
	NoOverride bool
}

// Load reads berth.yaml and the override file beside it, fills the
// defaults and validates the result, naming every problem (file, line,
// key) at once in a Problems error. It changes nothing.
func Load(opts LoadOptions) (*Env, error) {
	file := opts.File
	if file == "" {
		dir := opts.Dir
		if dir == "" {
			dir = "."
		}
		f, err := Find(dir)
		if err != nil {
			return nil, err
		}
		file = f
	}
	file, err := filepath.Abs(file)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s does not exist", ErrNoFile, file)
		}
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	var over []byte
	overFile := filepath.Join(filepath.Dir(file), OverrideName)
	if !opts.NoOverride {
		over, err = os.ReadFile(overFile)
		if errors.Is(err, fs.ErrNotExist) {
			over, overFile = nil, ""
		} else if err != nil {
			return nil, fmt.Errorf("read %s: %w", overFile, err)
		}
	} else {
		overFile = ""
	}
	return Parse(file, data, overFile, over, opts.DefaultDriver)
}

// Parse is Load of the given contents: file is berth.yaml's absolute path
// (relative paths in it are taken from its folder), override the
// override file's contents (overFile its path; both empty when there is
// none). It checks that compose files and shared folders exist.
func Parse(file string, data []byte, overFile string, override []byte, defaultDriver string) (*Env, error) {
	p := &parser{file: file}
	env := p.parseMain(data)
	if env == nil {
		return nil, p.probs
	}
	if overFile != "" {
		op := &parser{file: overFile}
		op.parseOverride(override, env)
		p.probs = append(p.probs, op.probs...)
		env.Override = overFile
	}
	p.defaults(env, defaultDriver)
	p.validate(env)
	if len(p.probs) > 0 {
		return nil, p.probs
	}
	return env, nil
}

// defaults fills the name and drivers.
func (p *parser) defaults(env *Env, defaultDriver string) {
	if env.Name == "" {
		env.Name = defaultName(env.Dir)
	}
	if defaultDriver == "" {
		defaultDriver = "qemu"
	}
	for _, m := range env.Machines {
		if m.Driver == "" {
			m.Driver = defaultDriver
		}
		m.FullName = env.Name + "-" + m.Name
	}
}

// defaultName is the folder's name made into a machine-name prefix:
// lower case, runs of other characters as one '-'.
func defaultName(dir string) string {
	base := strings.ToLower(filepath.Base(dir))
	var b strings.Builder
	dash := false
	for _, r := range base {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	name := strings.TrimRight(b.String(), "-")
	if name == "" {
		name = "env"
	}
	return name
}

// validate checks what needs the whole file: names, depends-on, files.
func (p *parser) validate(env *Env) {
	if err := machine.ValidateName(env.Name); err != nil {
		p.add(env.nameLine, "name", "%q cannot prefix machine names: %v", env.Name, err)
	}
	if len(env.Machines) == 0 {
		p.add(env.machinesLine, "machines", "the environment has no machines (add at least one under machines:)")
	}
	for _, n := range env.sortedNames() {
		m := env.Machines[n]
		key := "machines." + n
		if err := machine.ValidateName(m.FullName); err != nil {
			p.add(m.Line, key, "machine name %q: %v", m.FullName, err)
		}
		if len(m.Compose) == 0 {
			p.add(m.Line, key, "no compose file (add compose: FILE, the services this machine runs)")
		}
		for _, c := range m.Compose {
			if fi, err := os.Stat(c); err != nil {
				p.add(m.lines["compose"], key+".compose", "%s does not exist", c)
			} else if fi.IsDir() {
				p.add(m.lines["compose"], key+".compose", "%s is a folder, not a compose file", c)
			}
		}
		if err := machine.ValidateShares(m.Shares); err != nil {
			p.add(m.lines["shares"], key+".shares", "%v", err)
		}
		for _, d := range m.DependsOn {
			if _, ok := env.Machines[d]; !ok {
				p.add(m.lines["depends-on"], key+".depends-on", "unknown machine %q (the file has: %s)", d, strings.Join(env.sortedNames(), ", "))
			} else if d == n {
				p.add(m.lines["depends-on"], key+".depends-on", "machine %q depends on itself", n)
			}
		}
	}
	if cyc := env.cycle(); cyc != nil {
		m := env.Machines[cyc[0]]
		p.add(m.lines["depends-on"], "machines."+cyc[0]+".depends-on", "depends-on cycle: %s", strings.Join(cyc, " -> "))
	}
}

// cycle returns a depends-on cycle (first machine repeated at the end),
// or nil. Unknown machines are ignored here.
func (e *Env) cycle() []string {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var found []string
	var visit func(n string) bool
	visit = func(n string) bool {
		color[n] = grey
		stack = append(stack, n)
		for _, d := range e.Machines[n].DependsOn {
			if _, ok := e.Machines[d]; !ok || d == n {
				continue
			}
			switch color[d] {
			case grey:
				for i, s := range stack {
					if s == d {
						found = append(append([]string{}, stack[i:]...), d)
					}
				}
				return true
			case white:
				if visit(d) {
					return true
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[n] = black
		return false
	}
	for _, n := range e.sortedNames() {
		if color[n] == white && visit(n) {
			return found
		}
	}
	return nil
}
