// Package vboxdouble is a test double of VirtualBox's VBoxManage: it takes
// the command lines VBoxManage takes (checked against VBoxManage's own
// option tables in spec.json), answers with VBoxManage's output and
// errors, keeps VM definitions in a state folder, and boots the VMs in
// QEMU. Permanent shared folders (sharedfolder add) become virtio-9p
// devices whose mount tag is the folder's name; berth-os mounts those in
// place of vboxsf. It is built for tests (see virtualboxtest.BuildDouble)
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
//
// Every call is appended to VBOXDOUBLE_HOME/calls.log, one JSON array of
// arguments per line.
package vboxdouble
