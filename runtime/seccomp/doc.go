// Package seccomp compiles Docker's default seccomp profile into the BPF
// filter that a container's init installs before it executes the
// container's command.
package seccomp
