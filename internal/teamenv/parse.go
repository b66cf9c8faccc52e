package teamenv

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	units "github.com/docker/go-units"
	"go.yaml.in/yaml/v3"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/machine"
)

// parser walks the YAML node tree of one file, collecting Problems.
type parser struct {
	file  string
	probs Problems
}

func (p *parser) add(line int, key, format string, args ...any) {
	p.probs = append(p.probs, Problem{File: p.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// machineKeys are the keys a machine may have in berth.yaml; overrideKeys
// those it may have in the override file.
var (
	topKeys      = []string{"name", "machines"}
	machineKeys  = []string{"driver", "cpus", "memory", "disk", "shares", "insecure-registries", "compose", "profiles", "depends-on", "iso"}
	overrideKeys = []string{"cpus", "memory", "driver", "shares"}
)

// root decodes data and returns its top mapping, or nil after a Problem.
func (p *parser) root(data []byte) *yaml.Node {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line := 0
		msg := err.Error()
		// yaml: line N: ...
		if rest, ok := strings.CutPrefix(msg, "yaml: line "); ok {
			if n, after, ok := strings.Cut(rest, ":"); ok {
				if l, err := strconv.Atoi(n); err == nil {
					line, msg = l, strings.TrimSpace(after)
				}
			}
		}
		p.add(line, "", "not valid YAML: %s", msg)
		return nil
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		p.add(0, "", "the file is empty (it needs machines:)")
		return nil
	}
	top := deref(doc.Content[0])
	if top.Kind != yaml.MappingNode {
		p.add(top.Line, "", "want a mapping with name: and machines:, got %s", kind(top))
		return nil
	}
	return top
}

// parseMain reads berth.yaml. It returns nil when the file's shape is
// too broken to go on.
func (p *parser) parseMain(data []byte) *Env {
	top := p.root(data)
	if top == nil {
		return nil
	}
	env := &Env{File: p.file, Dir: filepath.Dir(p.file), Machines: map[string]*Machine{}}
	for _, kv := range p.pairs(top, "", topKeys) {
		k, v := kv[0].Value, kv[1]
		switch k {
		case "name":
			env.nameLine = v.Line
			env.Name, _ = p.str(v, "name")
		case "machines":
			env.machinesLine = v.Line
			for _, mkv := range p.pairs(v, "machines", nil) {
				name := mkv[0].Value
				m := &Machine{Name: name, Line: mkv[0].Line, lines: map[string]int{}}
				env.Machines[name] = m
				p.machine(mkv[1], "machines."+name, m, env.Dir, machineKeys)
			}
		}
	}
	return env
}

// parseOverride applies the override file to env.
func (p *parser) parseOverride(data []byte, env *Env) {
	top := p.root(data)
	if top == nil {
		return
	}
	for _, kv := range p.pairs(top, "", []string{"machines"}) {
		for _, mkv := range p.pairs(kv[1], "machines", nil) {
			name := mkv[0].Value
			m, ok := env.Machines[name]
			if !ok {
				p.add(mkv[0].Line, "machines."+name, "unknown machine %q (%s has: %s)", name, FileName, strings.Join(env.sortedNames(), ", "))
				continue
			}
			p.machine(mkv[1], "machines."+name, m, filepath.Dir(p.file), overrideKeys)
		}
	}
}

// machine reads one machine's mapping into m.
func (p *parser) machine(n *yaml.Node, key string, m *Machine, dir string, allowed []string) {
	for _, kv := range p.pairs(n, key, allowed) {
		k, v := kv[0].Value, kv[1]
		kk := key + "." + k
		m.lines[k] = v.Line
		switch k {
		case "driver":
			if s, ok := p.str(v, kk); ok {
				if _, err := drivers.Lookup(s); err != nil {
					p.add(v.Line, kk, "%v", err)
				}
				m.Driver = s
			}
		case "cpus":
			if s, ok := p.str(v, kk); ok {
				c, err := strconv.Atoi(s)
				if err != nil || c < 1 || c > 256 {
					p.add(v.Line, kk, "%q: want a whole number of CPUs from 1", s)
				}
				m.CPUs = c
			}
		case "memory":
			m.MemoryBytes = p.size(v, kk, 256<<20)
		case "disk":
			m.DiskBytes = p.size(v, kk, 100<<20)
		case "shares":
			m.Shares = nil
			for _, s := range p.strs(v, kk) {
				sh, err := machine.ParseShare(s, dir)
				if err != nil {
					p.add(v.Line, kk, "%q: %v", s, err)
					continue
				}
				m.Shares = append(m.Shares, sh)
			}
		case "insecure-registries":
			m.InsecureRegistries = p.strs(v, kk)
		case "compose":
			m.Compose = nil
			for _, c := range p.strs(v, kk) {
				if !filepath.IsAbs(c) {
					c = filepath.Join(dir, filepath.FromSlash(c))
				}
				m.Compose = append(m.Compose, c)
			}
		case "profiles":
			m.Profiles = p.strs(v, kk)
		case "depends-on":
			m.DependsOn = p.strs(v, kk)
		case "iso":
			if s, ok := p.str(v, kk); ok {
				if !strings.Contains(s, "://") && !filepath.IsAbs(s) {
					s = filepath.Join(dir, filepath.FromSlash(s))
				}
				m.ISO = s
			}
		}
	}
}

// pairs returns the key/value pairs of a mapping, with a Problem for a
// key not in allowed (nil allows any), a duplicate key or a value that is
// not a mapping.
func (p *parser) pairs(n *yaml.Node, key string, allowed []string) [][2]*yaml.Node {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		if n.Tag == "!!null" {
			return nil
		}
		p.add(n.Line, key, "want a mapping, got %s", kind(n))
		return nil
	}
	var out [][2]*yaml.Node
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		kk := k.Value
		if key != "" {
			kk = key + "." + k.Value
		}
		if k.Kind != yaml.ScalarNode {
			p.add(k.Line, key, "keys must be names, got %s", kind(k))
			continue
		}
		if seen[k.Value] {
			p.add(k.Line, kk, "duplicate key")
			continue
		}
		seen[k.Value] = true
		if allowed != nil && !contains(allowed, k.Value) {
			p.add(k.Line, kk, "unknown key %q (known: %s)", k.Value, strings.Join(allowed, ", "))
			continue
		}
		out = append(out, [2]*yaml.Node{k, v})
	}
	return out
}

// str reads a scalar.
func (p *parser) str(n *yaml.Node, key string) (string, bool) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.add(n.Line, key, "want a value, got %s", kind(n))
		return "", false
	}
	return n.Value, true
}

// strs reads a list of scalars, or one scalar as a list of one.
func (p *parser) strs(n *yaml.Node, key string) []string {
	n = deref(n)
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil
		}
		return []string{n.Value}
	case yaml.SequenceNode:
		var out []string
		for _, c := range n.Content {
			if s, ok := p.str(c, key); ok {
				out = append(out, s)
			}
		}
		return out
	}
	p.add(n.Line, key, "want a list, got %s", kind(n))
	return nil
}

// size reads a size with a unit ("2GiB", "512MiB", "20G"), at least min.
func (p *parser) size(n *yaml.Node, key string, min int64) int64 {
	s, ok := p.str(n, key)
	if !ok {
		return 0
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		p.add(n.Line, key, "%q has no unit: write it like 2GiB or 512MiB", s)
		return 0
	}
	b, err := units.RAMInBytes(s)
	if err != nil {
		p.add(n.Line, key, "%q is not a size: write it like 2GiB or 512MiB", s)
		return 0
	}
	if b < min {
		p.add(n.Line, key, "%s is too small: want at least %s", s, units.BytesSize(float64(min)))
		return 0
	}
	return b
}

// deref follows an alias to its anchor.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 8; i++ {
		n = n.Alias
	}
	return n
}

// kind names a node's kind for messages.
func kind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
