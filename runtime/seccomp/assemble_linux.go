package seccomp

import (
	"fmt"

	bpfseccomp "github.com/elastic/go-seccomp-bpf"
	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Offsets in the kernel's struct seccomp_data; the archs berth runs on
// (amd64, arm64) are little-endian, so an argument's low word comes first.
// maxRun is how many syscall checks share one return instruction (a
// jump reaches 255 instructions at most).
const maxRun = 250

const (
	offNr   = 0
	offArch = 4
	offArgs = 16
)

// assemble builds the BPF program of policy for info's architecture: the
// policy's groups in order, the first rule that matches deciding, then the
// default action. go-seccomp-bpf's own assembler is not used: after a
// failed argument check it compares the next syscall numbers with the
// argument left in the accumulator (v1.6.0), which denied socket(AF_INET6)
// and socket(AF_NETLINK) under Docker's profile. Here every block that
// loads arguments loads the syscall number again before the next check,
// and every jump stays inside its block (BPF jumps reach 255 at most).
func assemble(p *bpfseccomp.Policy, info *arch.Info) ([]bpf.Instruction, error) {
	return assembleArches(p.DefaultAction, []section{{info, p}})
}

// section is one architecture's part of a filter: its policy, with the
// names looked up in that architecture's table.
type section struct {
	info   *arch.Info
	policy *bpfseccomp.Policy
}

// assembleArches builds a filter for several ABIs (the native one first,
// then the 32-bit one Docker allows too): a header sends each call to its
// architecture's section with a long jump; another ABI gets def.
func assembleArches(def bpfseccomp.Action, secs []section) ([]bpf.Instruction, error) {
	var bodies [][]bpf.Instruction
	for _, sec := range secs {
		body, err := assembleSection(sec.policy, sec.info)
		if err != nil {
			return nil, err
		}
		bodies = append(bodies, body)
	}
	// Header: ld arch; per section: jeq id (jt 0, jf 1), ja body; ret def.
	ins := []bpf.Instruction{bpf.LoadAbsolute{Off: offArch, Size: 4}}
	header := 1 + 2*len(secs) + 1
	start := header // where the next body begins
	for i, sec := range secs {
		ins = append(ins, bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(sec.info.ID), SkipFalse: 1})
		at := len(ins) // the ja's index; it skips to start
		ins = append(ins, bpf.Jump{Skip: uint32(start - at - 1)})
		start += len(bodies[i])
	}
	ins = append(ins, bpf.RetConstant{Val: retValue(def)}) // another ABI
	for _, b := range bodies {
		ins = append(ins, b...)
	}
	if len(ins) > 4096 {
		return nil, fmt.Errorf("seccomp: the filter has %d instructions, more than the kernel's 4096", len(ins))
	}
	return ins, nil
}

// assembleSection builds the checks of one architecture, from loading the
// syscall number to the default action.
func assembleSection(p *bpfseccomp.Policy, info *arch.Info) ([]bpf.Instruction, error) {
	a := &assembler{}
	def := retValue(p.DefaultAction)
	a.emit(bpf.LoadAbsolute{Off: offNr, Size: 4})
	if info.ID == arch.X86_64.ID {
		// x32 calls (the X32 bit set) are not the native ABI either.
		a.emit(bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: uint32(arch.X32.SeccompMask), SkipFalse: 1})
		a.emit(bpf.RetConstant{Val: uint32(bpfseccomp.ActionErrno) | uint32(unix.ENOSYS)})
	}
	for _, g := range p.Syscalls {
		act := retValue(g.Action)
		// Unconditional names in runs that share one return: each check
		// jumps over the rest of its run to it.
		for start := 0; start < len(g.Names); start += maxRun {
			run := g.Names[start:min(start+maxRun, len(g.Names))]
			for i, name := range run {
				nr, ok := info.SyscallNames[name]
				if !ok {
					return nil, fmt.Errorf("seccomp: no syscall %q on %s", name, info.Name)
				}
				j := bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(nr | info.SeccompMask), SkipTrue: uint8(len(run) - 1 - i)}
				if i == len(run)-1 {
					j.SkipFalse = 1 // over the return
				}
				a.emit(j)
			}
			a.emit(bpf.RetConstant{Val: act})
		}
		// One block per name: its condition sets are alternatives (OR).
		var order []string
		sets := map[string][]bpfseccomp.ArgumentConditions{}
		for _, nc := range g.NamesWithCondtions {
			if _, seen := sets[nc.Name]; !seen {
				order = append(order, nc.Name)
			}
			sets[nc.Name] = append(sets[nc.Name], nc.Conditions)
		}
		for _, name := range order {
			nr, ok := info.SyscallNames[name]
			if !ok {
				return nil, fmt.Errorf("seccomp: no syscall %q on %s", name, info.Name)
			}
			if err := a.conditional(uint32(nr|info.SeccompMask), sets[name], act); err != nil {
				return nil, fmt.Errorf("seccomp: %s: %w", name, err)
			}
		}
	}
	a.emit(bpf.RetConstant{Val: def})
	return a.ins, nil
}

// retValue is what a filter returns for act: a bare errno action is
// EPERM, as in go-seccomp-bpf's policies.
func retValue(act bpfseccomp.Action) uint32 {
	if act == bpfseccomp.ActionErrno {
		return uint32(act) | uint32(unix.EPERM)
	}
	return uint32(act)
}

// conditional emits: if the number is nr and one of sets matches, return
// act; else go on with the number loaded again.
func (a *assembler) conditional(nr uint32, sets []bpfseccomp.ArgumentConditions, act uint32) error {
	skip := a.jumpIf(bpf.JumpEqual, nr, next, a.newLabel()) // to the block's end
	for _, conds := range sets {
		fail := a.newLabel()
		for _, c := range conds {
			if err := a.condition(c, fail); err != nil {
				return err
			}
		}
		a.emit(bpf.RetConstant{Val: act})
		a.place(fail)
	}
	a.emit(bpf.LoadAbsolute{Off: offNr, Size: 4})
	a.place(skip)
	return a.resolve()
}

// condition emits a check of one argument that falls through when it
// holds and jumps to fail when it does not. Values are 64 bits: the high
// words decide unless they are equal.
func (a *assembler) condition(c bpfseccomp.Condition, fail label) error {
	if c.Argument > 5 {
		return fmt.Errorf("argument %d: syscalls have six", c.Argument)
	}
	hi, lo := uint32(c.Value>>32), uint32(c.Value)
	ldHi := bpf.LoadAbsolute{Off: offArgs + 8*c.Argument + 4, Size: 4}
	ldLo := bpf.LoadAbsolute{Off: offArgs + 8*c.Argument, Size: 4}
	pass := a.newLabel()
	a.emit(ldHi)
	switch c.Operation {
	case bpfseccomp.Equal:
		a.jumpIf(bpf.JumpEqual, hi, next, fail)
		a.emit(ldLo)
		a.jumpIf(bpf.JumpEqual, lo, next, fail)
	case bpfseccomp.NotEqual:
		a.jumpIf(bpf.JumpEqual, hi, next, pass)
		a.emit(ldLo)
		a.jumpIf(bpf.JumpEqual, lo, fail, next)
	case bpfseccomp.GreaterThan:
		a.jumpIf(bpf.JumpGreaterThan, hi, pass, next)
		a.jumpIf(bpf.JumpEqual, hi, next, fail)
		a.emit(ldLo)
		a.jumpIf(bpf.JumpGreaterThan, lo, next, fail)
	case bpfseccomp.GreaterOrEqual:
		a.jumpIf(bpf.JumpGreaterThan, hi, pass, next)
		a.jumpIf(bpf.JumpEqual, hi, next, fail)
		a.emit(ldLo)
		a.jumpIf(bpf.JumpGreaterOrEqual, lo, next, fail)
	case bpfseccomp.LessThan:
		a.jumpIf(bpf.JumpGreaterThan, hi, fail, next)
		a.jumpIf(bpf.JumpEqual, hi, next, pass)
		a.emit(ldLo)
		a.jumpIf(bpf.JumpGreaterOrEqual, lo, fail, next)
	case bpfseccomp.LessOrEqual:
		a.jumpIf(bpf.JumpGreaterThan, hi, fail, next)
		a.jumpIf(bpf.JumpEqual, hi, next, pass)
		a.emit(ldLo)
		a.jumpIf(bpf.JumpGreaterThan, lo, fail, next)
	case bpfseccomp.BitsNotSet: // (arg & value) == 0
		a.jumpIf(bpf.JumpBitsSet, hi, fail, next)
		a.emit(ldLo)
		a.jumpIf(bpf.JumpBitsSet, lo, fail, next)
	case bpfseccomp.BitsSet: // (arg & value) == value
		a.emit(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: hi})
		a.jumpIf(bpf.JumpEqual, hi, next, fail)
		a.emit(ldLo)
		a.emit(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: lo})
		a.jumpIf(bpf.JumpEqual, lo, next, fail)
	default:
		return fmt.Errorf("argument check %q is not supported", c.Operation)
	}
	a.place(pass)
	return nil
}

// label is a position in the program, placed once; next is the
// instruction after the jump.
type label int

const next label = -1

type pendingJump struct {
	at          int
	onTrue, els label
}

// assembler collects instructions and resolves the forward jumps of the
// current block.
type assembler struct {
	ins     []bpf.Instruction
	labels  []int
	pending []pendingJump
}

func (a *assembler) emit(i bpf.Instruction) { a.ins = append(a.ins, i) }

func (a *assembler) newLabel() label {
	a.labels = append(a.labels, -1)
	return label(len(a.labels) - 1)
}

func (a *assembler) place(l label) { a.labels[l] = len(a.ins) }

// jumpIf emits a conditional jump to onTrue or els (forward only) and
// returns els.
func (a *assembler) jumpIf(cond bpf.JumpTest, val uint32, onTrue, els label) label {
	a.pending = append(a.pending, pendingJump{at: len(a.ins), onTrue: onTrue, els: els})
	a.emit(bpf.JumpIf{Cond: cond, Val: val})
	return els
}

// resolve fills in the pending jumps, whose labels must all be placed.
func (a *assembler) resolve() error {
	for _, j := range a.pending {
		ji := a.ins[j.at].(bpf.JumpIf)
		for _, t := range []struct {
			l   label
			dst *uint8
		}{{j.onTrue, &ji.SkipTrue}, {j.els, &ji.SkipFalse}} {
			if t.l == next {
				continue
			}
			pos := a.labels[t.l]
			off := pos - j.at - 1
			if pos < 0 || off < 0 || off > 255 {
				return fmt.Errorf("jump from %d to %d cannot be encoded", j.at, pos)
			}
			*t.dst = uint8(off)
		}
		a.ins[j.at] = ji
	}
	a.pending = a.pending[:0]
	return nil
}
