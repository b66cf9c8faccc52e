//go:build !windows

package sshutil

import "os"

// enableEscapes does nothing: unix terminals interpret escape sequences.
func enableEscapes(*os.File) (restore func()) { return func() {} }
