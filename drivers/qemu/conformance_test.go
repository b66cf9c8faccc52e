package qemu

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/drivers/driverstest"
	"github.com/berthvm/berth/internal/testenv"
)

// TestConformance runs the drivers contract suite against real QEMU
// booting the berth-os ISO.
func TestConformance(t *testing.T) {
	testenv.NeedQEMU(t)
	iso := testenv.ISO(t)
	driverstest.Run(t, driverstest.Options{
		New: func(t testing.TB, base drivers.Base) drivers.Driver {
			d := New(base)
			d.ISOSource, d.AccelRequested, d.CPUs, d.MemoryMB, d.DiskSizeMB = iso, "tcg", 1, 512, 1000
			return d
		},
	})
}

// TestConformanceBare runs the suite against a QEMU whose guest has no
// OS, so it needs no ISO: Stop falls back to killing after its timeout.
func TestConformanceBare(t *testing.T) {
	testenv.NeedQEMU(t)
	iso := testenv.WriteFakeISO(t, filepath.Join(t.TempDir(), "berth-os.iso"), "berth-os-v0.0.0")
	driverstest.Run(t, driverstest.Options{
		New: func(t testing.TB, base drivers.Base) drivers.Driver {
			d := New(base)
			d.ISOSource, d.AccelRequested, d.CPUs, d.MemoryMB, d.DiskSizeMB = iso, "tcg", 1, 256, 200
			d.SetStopTimeout(2 * time.Second)
			return d
		},
	})
}
