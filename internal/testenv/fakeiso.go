package testenv

import (
	"os"
	"strings"
	"testing"
)

// FakeISO returns size bytes (at least 40,000) that carry an ISO 9660
// primary volume descriptor naming id and nothing else: enough for berth
// to read a guest OS's version from, and for QEMU to attach as a CD that
// boots nothing.
func FakeISO(id string, size int) []byte {
	b := make([]byte, max(size, 40000))
	pvd := b[16*2048:]
	pvd[0] = 1
	copy(pvd[1:6], "CD001")
	copy(pvd[40:72], id+strings.Repeat(" ", 32-len(id)))
	return b
}

// WriteFakeISO writes FakeISO(id, 0) at path and returns path.
func WriteFakeISO(t testing.TB, path, id string) string {
	t.Helper()
	if err := os.WriteFile(path, FakeISO(id, 0), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
