// Package vboxdouble is a test double of VirtualBox's VBoxManage: it takes
// the command lines VBoxManage takes (checked against VBoxManage's own
// option tables in spec.json), answers with VBoxManage's output and
// errors, keeps VM definitions in a state folder, and boots the VMs in
// QEMU. Permanent shared folders (sharedfolder add) become virtio-9p
// devices whose mount tag is the folder's name; berth-os mounts those in
// place of vboxsf. VMs of the arm platform (createvm
// --platform-architecture arm, VirtualBox 7.1+) boot in qemu-system-aarch64's
// virt machine with edk2 and a variable store beside the VM's settings
// (<name>.nvram); an x86-only modifyvm option (one with an --x86- spelling:
// --pae, --hpet, --hwvirtex, --nestedpaging, --largepages, --vtxvpid...)
// on such a VM ends the process with SIGSEGV and saves nothing, as
// VirtualBox 7.1's VBoxManage does (it calls the VM's x86 platform
// settings, which an arm VM has not, through a null pointer); the reason
// is appended to VBOXDOUBLE_HOME/crash.log. It is built for tests (see virtualboxtest.BuildDouble)
// and never shipped.
//
// Environment:
//
//	VBOXDOUBLE_HOME             state folder (required)
//	VBOXDOUBLE_VERSION          version to claim (default 7.1.12r169651); option
//	                            spellings newer than it are refused
//	VBOXDOUBLE_NOT_READY=N      the first N calls fail with "The object is not ready"
//	VBOXDOUBLE_STRICT_SESSIONS=1  a call that overlaps another one fails with
//	                            VirtualBox's session-lock error
//	VBOXDOUBLE_DELAY=50ms       every call takes at least this long
//	VBOXDOUBLE_MAX_MEMORY=MB    cap the memory QEMU gets
//	VBOXDOUBLE_NO_VTX=1         startvm fails as on a host without VT-x
//	VBOXDOUBLE_QEMU             QEMU binary (default qemu-system-x86_64)
//	VBOXDOUBLE_QEMU_ARM         QEMU binary for arm VMs (default qemu-system-aarch64)
//	VBOXDOUBLE_FIRMWARE         edk2 code for arm VMs (default: where the QEMU
//	                            driver finds it, e.g. Debian's qemu-efi-aarch64)
//
// Every call is appended to VBOXDOUBLE_HOME/calls.log, one JSON array of
// arguments per line.
package vboxdouble
