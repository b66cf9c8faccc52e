package sshutil

import (
	"os"

	"golang.org/x/sys/windows"
)

// enableEscapes makes a Windows console interpret the terminal escape
// sequences the remote PTY sends (colours, cursor moves) and returns what
// restores its mode.
func enableEscapes(f *os.File) (restore func()) {
	h := windows.Handle(f.Fd())
	var mode uint32
	if err := windows.GetConsoleMode(h, &mode); err != nil {
		return func() {}
	}
	if err := windows.SetConsoleMode(h, mode|windows.ENABLE_VIRTUAL_TERMINAL_PROCESSING); err != nil {
		return func() {}
	}
	return func() { windows.SetConsoleMode(h, mode) }
}
