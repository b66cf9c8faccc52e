package vboxdouble

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// spec.json is trimmed from vboxmanage-spec.json (VBoxManage's syntax read
// from VirtualBox 7.1.12's sources) to the commands the double implements:
//
//	jq -c '{meta: {what: .meta.what, primary_source: .meta.primary_source}, getopt,
//	  exit_codes: (.exit_codes|del(.notes)), commands: (.commands | {"--version", list,
//	  showvminfo, createvm, modifyvm, storagectl, storageattach, createmedium,
//	  closemedium, startvm, unregistervm, controlvm, hostonlyif, dhcpserver,
//	  sharedfolder})}'
//
//go:embed spec.json
var specJSON []byte

// optSpec is one option of a command's table.
type optSpec struct {
	Names           []string          `json:"names"`
	Short           string            `json:"short"`
	Type            string            `json:"type"`
	Indexed         bool              `json:"indexed"`
	Enum            []string          `json:"enum"`
	CaseInsensitive bool              `json:"case_insensitive"`
	Since           map[string]string `json:"since"`
	Error           string            `json:"error"`
	BadValueExit    int               `json:"bad_value_exit"`
	IndexNote       string            `json:"index_note"`
}

// x86Only reports whether the option sets the x86 platform's settings
// (VirtualBox 7.1 gave every such option an --x86- spelling).
func (s *optSpec) x86Only() bool {
	for _, n := range s.Names {
		if strings.HasPrefix(n, "--x86-") {
			return true
		}
	}
	return false
}

// nicIndexed reports whether the option's index is a NIC slot.
func (s *optSpec) nicIndexed() bool { return s.Indexed && strings.Contains(s.IndexNote, "NIC slot") }

// cmdSpec is one command of the spec.
type cmdSpec struct {
	Synopsis         json.RawMessage `json:"synopsis"`
	Options          []optSpec       `json:"options"`
	CommonOptions    []optSpec       `json:"common_options"`
	AddModifyOptions []optSpec       `json:"add_modify_options"`
	Subcommands      json.RawMessage `json:"subcommands"`
}

type specFile struct {
	Commands map[string]cmdSpec `json:"commands"`
}

var spec = func() specFile {
	var s specFile
	if err := json.Unmarshal(specJSON, &s); err != nil {
		panic("vboxdouble: spec.json: " + err.Error())
	}
	return s
}()

// synopsis returns a command's usage lines.
func synopsis(cmd string) []string {
	raw := spec.Commands[cmd].Synopsis
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []string
	json.Unmarshal(raw, &many)
	return many
}

// subOptions returns the option table of a sub-command (hostonlyif).
func subOptions(cmd, sub string) ([]optSpec, []string) {
	var subs map[string]struct {
		Synopsis string    `json:"synopsis"`
		Options  []optSpec `json:"options"`
	}
	json.Unmarshal(spec.Commands[cmd].Subcommands, &subs)
	s := subs[sub]
	return s.Options, []string{s.Synopsis}
}

// version is a VirtualBox version for comparisons.
type version [3]int

func parseVer(s string) (version, bool) {
	s = strings.TrimPrefix(s, "<=")
	if i := strings.IndexAny(s, "r_"); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(s, ".")
	var v version
	if len(parts) != 3 {
		return v, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return v, false
		}
		v[i] = n
	}
	return v, true
}

func (v version) less(w version) bool {
	for i := range v {
		if v[i] != w[i] {
			return v[i] < w[i]
		}
	}
	return false
}

// opt is one parsed option.
type opt struct {
	Name  string // the option's first name in the table: its identity
	Typed string // the spelling as typed, without index or value
	Index int    // for indexed options
	Value string
	// Extra is the rule name after "--natpf<N> delete".
	Extra string
	spec  *optSpec
}

// usageError is a syntax error that VBoxManage reports with its usage.
type usageError struct {
	msg  string
	exit int
}

func (e *usageError) Error() string { return e.msg }

// parsed is a command line after getopt.
type parsed struct {
	opts []opt
	pos  []string
}

func (p parsed) has(name string) bool {
	for _, o := range p.opts {
		if o.Name == name {
			return true
		}
	}
	return false
}

func (p parsed) get(name string) (string, bool) {
	v, ok := "", false
	for _, o := range p.opts {
		if o.Name == name {
			v, ok = o.Value, true
		}
	}
	return v, ok
}

// getopt parses args like IPRT's RTGetOpt with the table opts, accepting
// only spellings that exist in version ver. lowerUnknown selects the
// "unknown option: %s" wording some commands use; unknownExit is the exit
// code of an unknown option (2, but 1 for modifyvm and storageattach).
func getopt(args []string, opts []optSpec, ver version, lowerUnknown bool, unknownExit int) (parsed, error) {
	var p parsed
	unknown := func(a string) error {
		if lowerUnknown {
			return &usageError{"unknown option: " + a, unknownExit}
		}
		return &usageError{"Unknown option: " + a, unknownExit}
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			p.pos = append(p.pos, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			p.pos = append(p.pos, a)
			continue
		}
		o, attached, hasValue, err := matchOption(a, opts, ver)
		if err != nil {
			return p, err
		}
		if o.spec == nil {
			return p, unknown(a)
		}
		if o.spec.Type == "none" {
			if hasValue {
				return p, unknown(a)
			}
			p.opts = append(p.opts, o)
			continue
		}
		if hasValue {
			o.Value = attached
		} else {
			if i+1 >= len(args) {
				return p, &usageError{o.spec.Names[0] + ": RTGetOpt: Command line option needs argument.", unknownExit}
			}
			i++
			o.Value = args[i]
		}
		if err := checkType(o); err != nil {
			return p, err
		}
		if o.Name == "--nat-pf" && o.Value == "delete" {
			// The rule name is the next argument (RTGetOptFetchValue).
			if i+1 >= len(args) {
				return p, &usageError{"Not enough parameters", 2}
			}
			i++
			o.Extra = args[i]
		}
		p.opts = append(p.opts, o)
	}
	return p, nil
}

// matchOption finds the option a names. It returns a zero opt (nil spec)
// for an unknown one.
func matchOption(a string, opts []optSpec, ver version) (o opt, value string, hasValue bool, err error) {
	for k := range opts {
		s := &opts[k]
		for _, name := range s.Names {
			if !strings.HasPrefix(a, name) || !accepted(s, name, ver) {
				continue
			}
			rest := a[len(name):]
			idx := -1
			if s.Indexed {
				n := 0
				for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
					n++
				}
				if n == 0 {
					if rest == "" {
						return o, "", false, &usageError{name + ": RTGetOpt: Command line option needs an index.", 2}
					}
					continue
				}
				idx, _ = strconv.Atoi(rest[:n])
				rest = rest[n:]
			}
			if rest != "" && rest[0] != '=' && rest[0] != ':' {
				continue
			}
			o = opt{Name: s.Names[0], Typed: name, Index: idx, spec: s}
			if rest != "" {
				return o, rest[1:], true, nil
			}
			return o, "", false, nil
		}
	}
	// Short options: -n value, -nvalue, -n=value, -n:value.
	if a[1] != '-' {
		for k := range opts {
			s := &opts[k]
			if s.Short == "" || s.Short[1] != a[1] {
				continue
			}
			o = opt{Name: s.Names[0], Typed: s.Short, spec: s}
			rest := a[2:]
			if rest == "" {
				return o, "", false, nil
			}
			if rest[0] == '=' || rest[0] == ':' {
				rest = rest[1:]
			}
			return o, rest, true, nil
		}
	}
	return opt{}, "", false, nil
}

// accepted reports whether spelling name of s exists in version ver.
func accepted(s *optSpec, name string, ver version) bool {
	since, ok := s.Since[name]
	if !ok || strings.HasPrefix(since, "<=") {
		return true
	}
	v, ok := parseVer(since)
	return !ok || !ver.less(v)
}

// checkType validates a value by the option's type and enum.
func checkType(o opt) error {
	s := o.spec
	switch s.Type {
	case "bool-on-off":
		if !strings.EqualFold(o.Value, "on") && !strings.EqualFold(o.Value, "off") {
			return &usageError{"Unknown option: " + o.Value, exitOr(s.BadValueExit, 2)}
		}
		return nil
	case "uint32", "uint64", "uint8":
		bits := map[string]int{"uint32": 32, "uint64": 64, "uint8": 8}[s.Type]
		if _, err := strconv.ParseUint(o.Value, 0, bits); err != nil || strings.HasPrefix(o.Value, "+") {
			return &usageError{"Invalid argument format: " + o.Typed, exitOr(s.BadValueExit, 2)}
		}
	case "int32", "int64":
		bits := map[string]int{"int32": 32, "int64": 64}[s.Type]
		if _, err := strconv.ParseInt(o.Value, 0, bits); err != nil {
			return &usageError{"Invalid argument format: " + o.Typed, exitOr(s.BadValueExit, 2)}
		}
	}
	if len(s.Enum) > 0 {
		for _, e := range s.Enum {
			if e == o.Value || s.CaseInsensitive && strings.EqualFold(e, o.Value) {
				return nil
			}
		}
		msg := s.Error
		if msg == "" {
			msg = "Invalid " + s.Names[0] + " argument '%s'"
		}
		if strings.Count(msg, "%") == 2 {
			return &usageError{fmt.Sprintf(msg, o.Value, o.Index), exitOr(s.BadValueExit, 2)}
		}
		return &usageError{fmt.Sprintf(msg, o.Value), exitOr(s.BadValueExit, 2)}
	}
	return nil
}

func exitOr(code, def int) int {
	if code == 0 {
		return def
	}
	return code
}

// canonEnum returns the enum spelling of v (case-insensitive options).
func canonEnum(s *optSpec, v string) string {
	for _, e := range s.Enum {
		if strings.EqualFold(e, v) {
			return e
		}
	}
	return v
}

// jsonField digs a raw value out of a JSON document by keys.
func jsonField(doc []byte, keys ...string) (json.RawMessage, error) {
	raw := json.RawMessage(doc)
	for _, k := range keys {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, err
		}
		raw = m[k]
	}
	return raw, nil
}

func jsonUnmarshal(raw json.RawMessage, v any) { json.Unmarshal(raw, v) }
