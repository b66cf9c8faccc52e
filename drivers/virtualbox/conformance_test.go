package virtualbox

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/drivers/driverstest"
	"github.com/berthvm/berth/drivers/virtualbox/virtualboxtest"
	"github.com/berthvm/berth/internal/seed"
	"github.com/berthvm/berth/internal/testenv"
)

// throughDouble makes drivers whose VBoxManage is the double, with small
// VMs. The double boots them in QEMU under TCG.
func throughDouble(t testing.TB, dbl *virtualboxtest.Double, iso string, stopTimeout time.Duration, env ...string) func(testing.TB, drivers.Base) drivers.Driver {
	dbl.Use(t, append([]string{"VBOXDOUBLE_MAX_MEMORY=1024"}, env...)...)
	return func(_ testing.TB, base drivers.Base) drivers.Driver {
		d := New(base)
		d.ISO, d.MemoryMB, d.DiskMB, d.NoVTXCheck, d.StopTimeout = iso, 512, 1000, true, stopTimeout
		return d
	}
}

// hostISO is the berth-os ISO of this host's architecture, which New's
// VMs have.
func hostISO(t testing.TB) string {
	if HostArch() == ArchARM64 {
		return testenv.ISOArch(t, ArchARM64)
	}
	return testenv.ISO(t)
}

// TestConformance runs the drivers contract suite through the VBoxManage
// double booting the berth-os ISO (of this host's architecture).
// With BERTH_VBOX_REAL=1 (make test-virtualbox-real) it runs against the
// VirtualBox installed on this host instead.
func TestConformance(t *testing.T) {
	iso := hostISO(t)
	if os.Getenv("BERTH_VBOX_REAL") == "1" {
		testenv.NeedCommand(t, "VBoxManage")
		driverstest.Run(t, driverstest.Options{New: func(_ testing.TB, base drivers.Base) drivers.Driver {
			d := New(base)
			d.ISO, d.MemoryMB, d.DiskMB, d.StopTimeout = iso, 512, 1000, 60*time.Second
			return d
		}})
		return
	}
	testenv.NeedQEMU(t)
	dbl := virtualboxtest.BuildDouble(t)
	driverstest.Run(t, driverstest.Options{New: throughDouble(t, dbl, iso, 20*time.Second)})
}

// TestConformanceBare runs the suite with a guest that has no OS, so it
// needs no berth-os ISO: Stop powers off after its timeout. The double
// runs as VirtualBox 6.1 and refuses newer option spellings, and "The
// object is not ready" is injected to exercise the retries.
func TestConformanceBare(t *testing.T) {
	testenv.NeedQEMU(t)
	iso := filepath.Join(t.TempDir(), "blank.iso")
	if err := seed.Write(iso, seed.Config{InstanceID: "blank", Hostname: "blank", SSHAuthorizedKeys: []string{testKey}}); err != nil {
		t.Fatal(err)
	}
	dbl := virtualboxtest.BuildDouble(t)
	driverstest.Run(t, driverstest.Options{New: throughDouble(t, dbl, iso, 2*time.Second, "VBOXDOUBLE_VERSION=6.1.38r153438", "VBOXDOUBLE_NOT_READY=3")})
}
