// Package provision puts the berth agent on a machine over SSH and keeps it running.
package provision
