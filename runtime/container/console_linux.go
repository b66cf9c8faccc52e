package container

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// consoleFd is the socket on which the init (or exec helper) of a TTY
// process sends the terminal's master to its parent.
const consoleFd = 5

// setupConsole gives the calling process a new terminal from the
// container's own devpts (so that tty(1) and /dev/pts inside agree): it
// becomes the controlling terminal and stdio, and its master goes to the
// parent over the console socket. The process must lead its session.
// size, when set, is the terminal's [height, width] before the command runs.
func setupConsole(size [2]uint) error {
	sock := os.NewFile(consoleFd, "console")
	defer sock.Close()
	master, slave, err := openPty()
	if err != nil {
		return err
	}
	defer master.Close()
	defer slave.Close()
	if size[0] > 0 && size[1] > 0 {
		ws := &unix.Winsize{Row: uint16(size[0]), Col: uint16(size[1])}
		if err := unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, ws); err != nil {
			return fmt.Errorf("set the terminal's size: %w", err)
		}
	}
	if err := unix.IoctlSetInt(int(slave.Fd()), unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("make the terminal controlling: %w", err)
	}
	for fd := 0; fd <= 2; fd++ {
		if err := unix.Dup3(int(slave.Fd()), fd, 0); err != nil {
			return fmt.Errorf("use the terminal as stdio: %w", err)
		}
	}
	rights := unix.UnixRights(int(master.Fd()))
	if err := unix.Sendmsg(int(sock.Fd()), []byte{'M'}, rights, nil, 0); err != nil {
		return fmt.Errorf("send terminal to the monitor: %w", err)
	}
	return nil
}

// consolePair makes the socket pair a TTY process's parent hands over
// (child end) to receive the terminal master (parent end).
func consolePair() (parent, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("make console socket: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "console"), os.NewFile(uintptr(fds[1]), "console-child"), nil
}

// receiveConsole reads the terminal master the child sent; an error when
// the child ended without sending one.
func receiveConsole(sock *os.File) (*os.File, error) {
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("receive terminal: %w", err)
	}
	if n == 0 || oobn == 0 {
		return nil, errors.New("the container ended before handing over its terminal")
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) == 0 {
		return nil, fmt.Errorf("parse terminal message: %v", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) == 0 {
		return nil, fmt.Errorf("parse terminal descriptor: %v", err)
	}
	return os.NewFile(uintptr(fds[0]), "ptmx"), nil
}
