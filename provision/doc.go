// Package provision puts the berth agent on a machine over SSH and keeps it running.
//
// Provision detects the machine (os-release, architecture, init system,
// root or passwordless sudo), uploads the agent for its architecture over
// SFTP to a temporary name, checks its SHA-256 on the machine, renames it
// into place, installs it as a supervised service (berth-os's agent slot
// or a systemd unit) and waits until its health check answers. Provision
// and Upgrade are one code path; running either twice changes nothing.
package provision
