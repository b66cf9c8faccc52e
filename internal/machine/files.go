package machine

import "strings"

// Files lists every file name a machine folder can hold. Whoever adds a
// file to machine folders (a driver, provisioning, SSH) adds its name here,
// so that `rm`, backups and the driver conformance suite know them all.
var Files = []string{
	ConfigFile,       // the machine's settings (this package)
	"id_ed25519",     // the machine's SSH private key (sshutil)
	"id_ed25519.pub", // its public key (sshutil)
	"known_hosts",    // the guest's host key, pinned at first contact (sshutil)
	"disk.qcow2",     // the data disk (qemu)
	"disk.vdi",       // the data disk (virtualbox)
	"vbox/",          // VirtualBox's VM folder: vbox/<vm>/<vm>.vbox, Logs/ (virtualbox)
	"boot.iso",       // the guest OS ISO the machine boots (drivers)
	"boot.old.iso",   // the ISO an upgrade replaced, until the new one booted (qemu)
	"boot.new.iso",   // the ISO an upgrade brings, while it is put in place (qemu)
	"boot.alt.iso",   // the boot ISO's other name, used by upgrades (virtualbox)
	"seed.iso",       // the NoCloud seed: hostname, authorized key (drivers)
	"qemu.pid",       // the QEMU process id (qemu)
	"qmp.sock",       // the QEMU monitor socket (qemu)
	"serial.log",     // the guest's console output (qemu, virtualbox)
	"fake.json",      // the test-only fake driver's VM (internal/fakedriver)
	"hostagent.pid",  // the host agent's process id (internal/hostagent)
	"hostagent.log",  // what the host agent logged (internal/hostagent)
	"hostagent.json", // the host agent's status, read by ls (internal/hostagent)
	"hostagent.lock", // held while the host agent runs (internal/hostagent)
	"docker.sock",    // the host agent's Docker API socket, or a link to it (internal/hostagent)
}

// ConfigFile is the name of a machine's settings file.
const ConfigFile = "config.json"

// IsKnownFile reports whether name (slash-separated, relative to the
// machine folder) is in Files, or lies in a folder that Files lists with a
// trailing slash.
func IsKnownFile(name string) bool {
	for _, f := range Files {
		if f == name {
			return true
		}
		if dir, ok := strings.CutSuffix(f, "/"); ok && (name == dir || strings.HasPrefix(name, f)) {
			return true
		}
	}
	return false
}
