package container

import (
	"io"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// execIO wires an exec's command to its caller: the files the exec helper
// gets as stdio, and the copying of the command's output to out (and of
// the caller's stdin to the command).
type execIO struct {
	tty                        bool
	attachStdout, attachStderr bool
	out                        io.Writer

	child  [3]*os.File // the helper's stdin, stdout and stderr
	handed []*os.File  // this side's copies of child, closed once the helper has them

	outs []*os.File // the command's output: stdout and stderr, or the terminal
	ids  []byte     // the stream of each of outs
	in   io.WriteCloser

	mu      sync.Mutex // one write to out at a time
	copying sync.WaitGroup
}

// newExecIO makes the stdio of spec's command: with a TTY, /dev/null until
// the terminal exists (see useTerminal); else pipes, and /dev/null for
// stdin when the caller has none (withStdin false).
func newExecIO(spec ExecSpec, out io.Writer, withStdin bool) (s *execIO, err error) {
	s = &execIO{tty: spec.Tty, attachStdout: spec.AttachStdout, attachStderr: spec.AttachStderr, out: out}
	var opened []*os.File
	defer func() {
		if err != nil {
			for _, f := range opened {
				f.Close()
			}
		}
	}()
	open := func(name string, flag int) (*os.File, error) {
		f, err := os.OpenFile(name, flag, 0)
		if err == nil {
			opened = append(opened, f)
		}
		return f, err
	}
	pipe := func() (*os.File, *os.File, error) {
		r, w, err := os.Pipe()
		if err == nil {
			opened = append(opened, r, w)
		}
		return r, w, err
	}
	if spec.Tty {
		null, err := open(os.DevNull, os.O_RDWR)
		if err != nil {
			return nil, err
		}
		s.child, s.handed = [3]*os.File{null, null, null}, []*os.File{null}
		return s, nil
	}
	var inR *os.File
	if withStdin {
		var inW *os.File
		if inR, inW, err = pipe(); err != nil {
			return nil, err
		}
		s.in = inW
	} else if inR, err = open(os.DevNull, os.O_RDONLY); err != nil {
		return nil, err
	}
	or, ow, err := pipe()
	if err != nil {
		return nil, err
	}
	er, ew, err := pipe()
	if err != nil {
		return nil, err
	}
	s.child, s.handed = [3]*os.File{inR, ow, ew}, []*os.File{inR, ow, ew}
	s.outs, s.ids = []*os.File{or, er}, []byte{StreamStdout, StreamStderr}
	return s, nil
}

// useTerminal makes master, the terminal the helper made in the
// container, the command's input and output, of size [height, width]
// when given.
func (s *execIO) useTerminal(master *os.File, size *[2]uint) {
	if size != nil && size[0] > 0 {
		unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: uint16(size[0]), Col: uint16(size[1])})
	}
	s.outs, s.ids, s.in = []*os.File{master}, []byte{StreamStdout}, master
}

// copy starts copying the command's output to out, and stdin (when not
// nil) to the command: to its end, then the pipe is closed (a terminal
// stays open).
func (s *execIO) copy(stdin io.Reader) {
	for i, f := range s.outs {
		s.copying.Add(1)
		go s.copyOut(f, s.ids[i])
	}
	if stdin != nil && s.in != nil {
		go func() {
			io.Copy(s.in, stdin)
			if !s.tty {
				s.in.Close()
			}
		}()
	}
}

// copyOut copies f, the output stream id, to out until f ends.
func (s *execIO) copyOut(f *os.File, id byte) {
	defer s.copying.Done()
	defer f.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := f.Read(buf)
		if n > 0 {
			s.mu.Lock()
			if s.tty {
				s.out.Write(buf[:n])
			} else if id == StreamStdout && s.attachStdout || id == StreamStderr && s.attachStderr {
				WriteFrame(s.out, id, buf[:n])
			}
			s.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// message writes msg, from berth rather than the command, to out as the
// command's stderr.
func (s *execIO) message(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tty {
		s.out.Write([]byte(msg + "\r\n"))
	} else {
		WriteFrame(s.out, StreamStderr, []byte(msg+"\n"))
	}
}

// cutOff closes this side of the command's output: copying ends even when
// processes the command left behind still hold the other side.
func (s *execIO) cutOff() {
	for _, f := range s.outs {
		f.Close()
	}
}

// discard closes this side of the stdio of a command that did not start.
func (s *execIO) discard() {
	s.cutOff()
	if s.in != nil {
		s.in.Close()
	}
}

// waitCopied waits until the command's output is copied.
func (s *execIO) waitCopied() { s.copying.Wait() }
