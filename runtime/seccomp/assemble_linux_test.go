package seccomp

import (
	"encoding/binary"
	"sort"
	"testing"

	bpfseccomp "github.com/elastic/go-seccomp-bpf"
	"github.com/elastic/go-seccomp-bpf/arch"
	profiles "github.com/moby/profiles/seccomp"
	"golang.org/x/net/bpf"
)

// TestAssembleMatchesPolicy runs the assembled filter of Docker's default
// profile, for both architectures, in a BPF interpreter on every syscall
// with arguments at and around every value the profile compares with, and
// checks each answer against the policy read directly: the first rule
// that matches decides, then the default action.
func TestAssembleMatchesPolicy(t *testing.T) {
	for _, goarch := range []string{"amd64", "arm64"} {
		env := Env{Arch: goarch, Caps: DefaultCaps, Kernel: profiles.KernelVersion{Kernel: 6, Major: 1}}
		p, err := Policy(profiles.DefaultProfile(), env)
		if err != nil {
			t.Fatal(err)
		}
		info, _ := archInfo(goarch)
		ins, err := assemble(p, info)
		if err != nil {
			t.Fatal(err)
		}
		vm, err := bpf.NewVM(ins)
		if err != nil {
			t.Fatalf("%s: %v", goarch, err)
		}
		values := []uint64{0, 1, 2, 0xffffffff, 1 << 32, ^uint64(0)}
		for _, g := range p.Syscalls {
			for _, nc := range g.NamesWithCondtions {
				for _, c := range nc.Conditions {
					values = append(values, c.Value-1, c.Value, c.Value+1, c.Value|1<<40, c.Value&^1)
				}
			}
		}
		var names []string
		for n := range info.SyscallNames {
			names = append(names, n)
		}
		sort.Strings(names)
		checked := 0
		for _, name := range names {
			nr := uint32(info.SyscallNames[name] | info.SeccompMask)
			for _, v := range values {
				for arg := 0; arg < 3; arg++ {
					var args [6]uint64
					args[arg] = v
					got := runFilter(t, vm, nr, uint32(info.ID), args)
					if want := expected(p, name, args); got != want {
						t.Fatalf("%s %s(arg%d=%#x) = %#x, want %#x", goarch, name, arg, v, got, want)
					}
					checked++
				}
			}
		}
		// Another ABI gets the default action.
		if got := runFilter(t, vm, 0, uint32(arch.I386.ID), [6]uint64{}); got != retValue(p.DefaultAction) {
			t.Errorf("%s: a 32-bit x86 call = %#x, want the default %#x", goarch, got, retValue(p.DefaultAction))
		}
		t.Logf("%s: %d instructions, %d calls checked", goarch, len(ins), checked)
	}
}

// expected reads the policy for one call.
func expected(p *bpfseccomp.Policy, name string, args [6]uint64) uint32 {
	for _, g := range p.Syscalls {
		for _, n := range g.Names {
			if n == name {
				return retValue(g.Action)
			}
		}
		for _, nc := range g.NamesWithCondtions {
			if nc.Name == name && holds(nc.Conditions, args) {
				return retValue(g.Action)
			}
		}
	}
	return retValue(p.DefaultAction)
}

func holds(conds bpfseccomp.ArgumentConditions, args [6]uint64) bool {
	for _, c := range conds {
		a := args[c.Argument]
		var ok bool
		switch c.Operation {
		case bpfseccomp.Equal:
			ok = a == c.Value
		case bpfseccomp.NotEqual:
			ok = a != c.Value
		case bpfseccomp.GreaterThan:
			ok = a > c.Value
		case bpfseccomp.GreaterOrEqual:
			ok = a >= c.Value
		case bpfseccomp.LessThan:
			ok = a < c.Value
		case bpfseccomp.LessOrEqual:
			ok = a <= c.Value
		case bpfseccomp.BitsNotSet:
			ok = a&c.Value == 0
		case bpfseccomp.BitsSet:
			ok = a&c.Value == c.Value
		}
		if !ok {
			return false
		}
	}
	return true
}

// runFilter runs the filter on a seccomp_data. The interpreter loads
// words big-endian (network order), so each word is stored that way: the
// program sees the same values the kernel would give it.
func runFilter(t *testing.T, vm *bpf.VM, nr, auditArch uint32, args [6]uint64) uint32 {
	t.Helper()
	data := make([]byte, 64)
	binary.BigEndian.PutUint32(data[offNr:], nr)
	binary.BigEndian.PutUint32(data[offArch:], auditArch)
	for i, a := range args {
		binary.BigEndian.PutUint32(data[offArgs+8*i:], uint32(a))
		binary.BigEndian.PutUint32(data[offArgs+8*i+4:], uint32(a>>32))
	}
	r, err := vm.Run(data)
	if err != nil {
		t.Fatal(err)
	}
	return uint32(r)
}

// TestAssembleEveryOperation checks each argument comparison on its own,
// around its value and across the 32-bit halves.
func TestAssembleEveryOperation(t *testing.T) {
	ops := []bpfseccomp.Operation{bpfseccomp.Equal, bpfseccomp.NotEqual, bpfseccomp.GreaterThan, bpfseccomp.GreaterOrEqual,
		bpfseccomp.LessThan, bpfseccomp.LessOrEqual, bpfseccomp.BitsNotSet, bpfseccomp.BitsSet}
	info := arch.X86_64
	for _, op := range ops {
		for _, val := range []uint64{0, 5, 0x1_0000_0005, 0xffff_ffff, 0x8000_0000_0000_0000} {
			p := &bpfseccomp.Policy{DefaultAction: bpfseccomp.ActionErrno, Syscalls: []bpfseccomp.SyscallGroup{
				{Action: bpfseccomp.ActionAllow, NamesWithCondtions: []bpfseccomp.NameWithConditions{
					{Name: "socket", Conditions: bpfseccomp.ArgumentConditions{{Argument: 1, Operation: op, Value: val}}}}},
				{Action: bpfseccomp.ActionAllow, Names: []string{"getpid"}},
			}}
			ins, err := assemble(p, info)
			if err != nil {
				t.Fatal(err)
			}
			vm, err := bpf.NewVM(ins)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range []uint64{0, 1, 4, 5, 6, val - 1, val, val + 1, val ^ 1<<32, 0xffff_ffff, 1 << 32, ^uint64(0)} {
				args := [6]uint64{0, a}
				for _, name := range []string{"socket", "getpid", "getppid"} {
					got := runFilter(t, vm, uint32(info.SyscallNames[name]), uint32(info.ID), args)
					if want := expected(p, name, args); got != want {
						t.Fatalf("%s %v %#x: %s(arg1=%#x) = %#x, want %#x", op, op, val, name, a, got, want)
					}
				}
			}
		}
	}
}
