package seccomp

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	bpfseccomp "github.com/elastic/go-seccomp-bpf"
	"github.com/elastic/go-seccomp-bpf/arch"
	profiles "github.com/moby/profiles/seccomp"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Env is what the profile's conditional rules look at.
type Env struct {
	// Arch is the GOARCH the filter is for: amd64 or arm64.
	Arch string
	// Caps are the container's capabilities ("CAP_CHOWN", ...).
	Caps []string
	// Kernel is the running kernel's version, major.minor.
	Kernel profiles.KernelVersion
}

// Policy translates profile into a go-seccomp-bpf policy for env, the way
// Docker's profile generator and libseccomp read it:
//   - rules whose includes (all caps, any arch, minimum kernel) or
//     excludes (any cap, any arch, minimum kernel) rule them out are left
//     out; names the architecture does not have are ignored;
//   - the arguments of a rule must all match (AND); rules for the same
//     name add up (OR);
//   - SCMP_CMP_MASKED_EQ is supported when its value two is 0 (no bit of
//     the mask set, as Docker's clone rule uses it), else the rule is left
//     out (such a syscall stays denied: stricter, never looser).
//
// The policy is for the native ABI; CompileProfile adds the 32-bit one
// (x86 on amd64, arm on arm64) with policyFor, as Docker's arch map does.
// x32 calls stay denied (ENOSYS).
func Policy(profile *profiles.Seccomp, env Env) (*bpfseccomp.Policy, error) {
	info, err := archInfo(env.Arch)
	if err != nil {
		return nil, err
	}
	return policyFor(profile, env, info)
}

// policyFor is Policy with the names looked up in info's table: the rules
// are chosen for env (its native Arch), as libseccomp adds each rule to
// every architecture of the filter.
func policyFor(profile *profiles.Seccomp, env Env, info *arch.Info) (*bpfseccomp.Policy, error) {
	def, err := action(profile.DefaultAction, profile.DefaultErrnoRet, nil)
	if err != nil {
		return nil, fmt.Errorf("default action: %w", err)
	}
	if def&unix.SECCOMP_RET_DATA != 0 {
		// go-seccomp-bpf takes only named default actions (errno: EPERM).
		return nil, fmt.Errorf("default action: errno %d is not supported, only EPERM", def&unix.SECCOMP_RET_DATA)
	}
	p := &bpfseccomp.Policy{DefaultAction: def}
	for _, rule := range profile.Syscalls {
		if !applies(rule, env) {
			continue
		}
		act, err := action(rule.Action, rule.ErrnoRet, profile.DefaultErrnoRet)
		if err != nil {
			return nil, fmt.Errorf("rule %v: %w", rule.Names, err)
		}
		if act == def {
			continue
		}
		names := rule.Names // the deprecated single Name is not used by Docker's profile
		g := bpfseccomp.SyscallGroup{Action: act}
		conds, ok := conditions(rule.Args)
		if !ok {
			continue
		}
		for _, n := range names {
			if _, known := info.SyscallNames[n]; !known || slices.Contains(g.Names, n) {
				continue
			}
			if conds == nil {
				g.Names = append(g.Names, n)
			} else {
				g.NamesWithCondtions = append(g.NamesWithCondtions, bpfseccomp.NameWithConditions{Name: n, Conditions: conds})
			}
		}
		if len(g.Names)+len(g.NamesWithCondtions) > 0 {
			p.Syscalls = append(p.Syscalls, g)
		}
	}
	return p, nil
}

func archInfo(goarch string) (*arch.Info, error) {
	switch goarch {
	case "amd64":
		return arch.X86_64, nil
	case "arm64":
		return arch.AARCH64, nil
	}
	return nil, fmt.Errorf("seccomp: no syscall table for %s", goarch)
}

// applies evaluates a rule's includes and excludes for env.
func applies(rule *profiles.Syscall, env Env) bool {
	if in := rule.Includes; in != nil {
		for _, c := range in.Caps {
			if !slices.Contains(env.Caps, c) {
				return false
			}
		}
		if len(in.Arches) > 0 && !slices.Contains(in.Arches, env.Arch) {
			return false
		}
		if in.MinKernel != nil && older(env.Kernel, *in.MinKernel) {
			return false
		}
	}
	if ex := rule.Excludes; ex != nil {
		for _, c := range ex.Caps {
			if slices.Contains(env.Caps, c) {
				return false
			}
		}
		if slices.Contains(ex.Arches, env.Arch) {
			return false
		}
		if ex.MinKernel != nil && !older(env.Kernel, *ex.MinKernel) {
			return false
		}
	}
	return true
}

func older(k, than profiles.KernelVersion) bool {
	return k.Kernel < than.Kernel || (k.Kernel == than.Kernel && k.Major < than.Major)
}

// action maps a profile action; errno defaults to fallback, then EPERM.
func action(a specs.LinuxSeccompAction, errno, fallback *uint) (bpfseccomp.Action, error) {
	switch a {
	case specs.ActAllow:
		return bpfseccomp.ActionAllow, nil
	case specs.ActErrno:
		n := uint(unix.EPERM)
		if errno != nil {
			n = *errno
		} else if fallback != nil {
			n = *fallback
		}
		if n == uint(unix.EPERM) {
			return bpfseccomp.ActionErrno, nil // the library's errno action is EPERM
		}
		return bpfseccomp.ActionErrno | bpfseccomp.Action(n&unix.SECCOMP_RET_DATA), nil
	case specs.ActKill, specs.ActKillThread:
		return bpfseccomp.ActionKillThread, nil
	case specs.ActKillProcess:
		return bpfseccomp.ActionKillProcess, nil
	case specs.ActTrap:
		return bpfseccomp.ActionTrap, nil
	case specs.ActLog:
		return bpfseccomp.ActionLog, nil
	}
	return 0, fmt.Errorf("seccomp action %q is not supported", a)
}

// conditions maps a rule's argument checks; ok is false for one that
// cannot be expressed.
func conditions(args []specs.LinuxSeccompArg) (bpfseccomp.ArgumentConditions, bool) {
	var out bpfseccomp.ArgumentConditions
	for _, a := range args {
		c := bpfseccomp.Condition{Argument: uint32(a.Index), Value: a.Value}
		switch a.Op {
		case specs.OpEqualTo:
			c.Operation = bpfseccomp.Equal
		case specs.OpNotEqual:
			c.Operation = bpfseccomp.NotEqual
		case specs.OpLessThan:
			c.Operation = bpfseccomp.LessThan
		case specs.OpLessEqual:
			c.Operation = bpfseccomp.LessOrEqual
		case specs.OpGreaterThan:
			c.Operation = bpfseccomp.GreaterThan
		case specs.OpGreaterEqual:
			c.Operation = bpfseccomp.GreaterOrEqual
		case specs.OpMaskedEqual:
			if a.ValueTwo != 0 {
				return nil, false
			}
			c.Operation = bpfseccomp.BitsNotSet
		default:
			return nil, false
		}
		out = append(out, c)
	}
	return out, true
}

// Compile assembles policy into the raw filter Install takes, for the
// running architecture (go-seccomp-bpf knows no other).
func Compile(policy *bpfseccomp.Policy) ([]byte, error) {
	info, err := archInfo(runtime.GOARCH)
	if err != nil {
		return nil, err
	}
	insts, err := assemble(policy, info)
	if err != nil {
		return nil, fmt.Errorf("assemble seccomp policy: %w", err)
	}
	return encode(insts)
}

var defaultFilter = sync.OnceValues(func() ([]byte, error) {
	return compileProfile(profiles.DefaultProfile(), defaultEnv())
})

// compatArch is the 32-bit ABI that runs next to each native one, which
// Docker's profile allows too (its arch map's sub-architectures).
var compatArch = map[string]*arch.Info{"amd64": arch.I386, "arm64": arch.ARM}

// compileProfile compiles profile for env's architecture and its 32-bit
// ABI.
func compileProfile(profile *profiles.Seccomp, env Env) ([]byte, error) {
	native, err := Policy(profile, env)
	if err != nil {
		return nil, err
	}
	info, _ := archInfo(env.Arch)
	secs := []section{{info, native}}
	if compat := compatArch[env.Arch]; compat != nil {
		p, err := policyFor(profile, env, compat)
		if err != nil {
			return nil, err
		}
		secs = append(secs, section{compat, p})
	}
	insts, err := assembleArches(native.DefaultAction, secs)
	if err != nil {
		return nil, fmt.Errorf("assemble seccomp policy: %w", err)
	}
	return encode(insts)
}

// encode turns instructions into the raw filter Install takes.
func encode(insts []bpf.Instruction) ([]byte, error) {
	raw, err := bpf.Assemble(insts)
	if err != nil {
		return nil, fmt.Errorf("assemble seccomp filter: %w", err)
	}
	out := make([]byte, 0, 8*len(raw))
	for _, r := range raw {
		out = binary.NativeEndian.AppendUint16(out, r.Op)
		out = append(out, r.Jt, r.Jf)
		out = binary.NativeEndian.AppendUint32(out, r.K)
	}
	return out, nil
}

// CompileProfile compiles a profile in Docker's JSON format (what
// `--security-opt seccomp=FILE` sends) for this machine and a container
// with Docker's default capabilities.
func CompileProfile(profileJSON []byte) ([]byte, error) {
	var prof profiles.Seccomp
	if err := json.Unmarshal(profileJSON, &prof); err != nil {
		return nil, fmt.Errorf("read seccomp profile: %w", err)
	}
	return compileProfile(&prof, defaultEnv())
}

func defaultEnv() Env {
	env := Env{Arch: runtime.GOARCH, Caps: DefaultCaps}
	if k, err := kernelVersion(); err == nil {
		env.Kernel = k
	}
	return env
}

// DefaultFilter is Docker's default profile compiled for this machine and
// a container with Docker's default capabilities. It is computed once.
func DefaultFilter() ([]byte, error) { return defaultFilter() }

// DefaultCaps are Docker's default capabilities, which decide the
// profile's capability rules.
var DefaultCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

func kernelVersion() (profiles.KernelVersion, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return profiles.KernelVersion{}, err
	}
	rel := unix.ByteSliceToString(u.Release[:])
	parts := strings.SplitN(rel, ".", 3)
	if len(parts) < 2 {
		return profiles.KernelVersion{}, fmt.Errorf("kernel release %q", rel)
	}
	k, err1 := strconv.ParseUint(parts[0], 10, 64)
	m, err2 := strconv.ParseUint(strings.TrimRightFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }), 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return profiles.KernelVersion{}, fmt.Errorf("kernel release %q: %w", rel, err)
	}
	return profiles.KernelVersion{Kernel: k, Major: m}, nil
}

// Install installs filter (from Compile) on the calling process, all its
// threads synchronised. Without no_new_privs the caller needs
// CAP_SYS_ADMIN: install before dropping privileges, as runc does;
// with no_new_privs set, install last, right before exec.
func Install(filter []byte) error {
	if len(filter) == 0 || len(filter)%8 != 0 || len(filter)/8 > 0xffff {
		return fmt.Errorf("install seccomp filter: bad filter of %d bytes", len(filter))
	}
	insts := make([]unix.SockFilter, len(filter)/8)
	for i := range insts {
		b := filter[8*i:]
		insts[i] = unix.SockFilter{Code: binary.NativeEndian.Uint16(b), Jt: b[2], Jf: b[3], K: binary.NativeEndian.Uint32(b[4:])}
	}
	prog := unix.SockFprog{Len: uint16(len(insts)), Filter: &insts[0]}
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&prog)))
	runtime.KeepAlive(insts)
	if errno != 0 {
		return fmt.Errorf("install seccomp filter: %w", errno)
	}
	return nil
}
