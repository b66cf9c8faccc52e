package testimages

import (
	"encoding/binary"
	"fmt"
)

// Greeting is what the hello image prints.
const Greeting = "\nHello from berth!\nThis message shows that your machine can pull and run images.\n"

// helloELF returns a tiny static Linux executable for arch (amd64 or
// arm64) that writes Greeting to stdout and exits 0: an ELF header, one
// loadable segment, a few instructions and the message.
func helloELF(arch string) ([]byte, error) {
	const base = 0x400000
	const codeOff = 64 + 56 // ELF header + one program header
	msg := []byte(Greeting)
	var code []byte
	var machine uint16
	switch arch {
	case "amd64":
		machine = 0x3e
		code = []byte{
			0xb8, 1, 0, 0, 0, // mov eax, 1 (write)
			0xbf, 1, 0, 0, 0, // mov edi, 1 (stdout)
			0x48, 0x8d, 0x35, 16, 0, 0, 0, // lea rsi, [rip+16] (the message)
			0xba, byte(len(msg)), byte(len(msg) >> 8), 0, 0, // mov edx, len
			0x0f, 0x05, // syscall
			0xb8, 60, 0, 0, 0, // mov eax, 60 (exit)
			0x31, 0xff, // xor edi, edi
			0x0f, 0x05, // syscall
		}
	case "arm64":
		machine = 0xb7
		insns := []uint32{
			0xd2800020,                           // mov x0, #1 (stdout)
			0x10000000 | 7<<5 | 1,                // adr x1, .+28 (the message)
			0xd2800000 | uint32(len(msg))<<5 | 2, // mov x2, #len
			0xd2800808,                           // mov x8, #64 (write)
			0xd4000001,                           // svc #0
			0xd2800000,                           // mov x0, #0
			0xd2800ba8,                           // mov x8, #93 (exit)
			0xd4000001,                           // svc #0
		}
		for _, in := range insns {
			code = binary.LittleEndian.AppendUint32(code, in)
		}
	default:
		return nil, fmt.Errorf("no hello program for architecture %q", arch)
	}
	total := uint64(codeOff + len(code) + len(msg))
	le := binary.LittleEndian
	b := []byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	b = le.AppendUint16(b, 2) // ET_EXEC
	b = le.AppendUint16(b, machine)
	b = le.AppendUint32(b, 1)
	b = le.AppendUint64(b, base+codeOff) // entry
	b = le.AppendUint64(b, 64)           // program headers
	b = le.AppendUint64(b, 0)            // no section headers
	b = le.AppendUint32(b, 0)
	b = le.AppendUint16(b, 64)
	b = le.AppendUint16(b, 56)
	b = le.AppendUint16(b, 1)
	b = le.AppendUint16(b, 0)
	b = le.AppendUint16(b, 0)
	b = le.AppendUint16(b, 0)
	b = le.AppendUint32(b, 1) // PT_LOAD
	b = le.AppendUint32(b, 5) // R+X
	b = le.AppendUint64(b, 0)
	b = le.AppendUint64(b, base)
	b = le.AppendUint64(b, base)
	b = le.AppendUint64(b, total)
	b = le.AppendUint64(b, total)
	b = le.AppendUint64(b, 0x1000)
	b = append(b, code...)
	return append(b, msg...), nil
}
