package portholder

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestFindsAnotherProcess starts a child that listens on a TCP and a UDP
// port and wants Find to name it.
func TestFindsAnotherProcess(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHolder$")
	cmd.Env = append(os.Environ(), "PORTHOLDER_HELPER=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("read the helper's ports: %v", err)
	}
	tcp, udp, _ := strings.Cut(strings.TrimSpace(line), " ")
	comm := filepath.Base(os.Args[0])
	if len(comm) > 15 {
		comm = comm[:15] // the kernel keeps 15 characters of a command name
	}
	for _, c := range []struct{ proto, port string }{{"tcp", tcp}, {"udp", udp}} {
		port, _ := strconv.Atoi(c.port)
		h, ok := Find(c.proto, "127.0.0.1", port)
		if !ok || h.PID != cmd.Process.Pid || h.Command != comm || h.UID != os.Getuid() {
			t.Errorf("Find(%s, 127.0.0.1, %d) = %+v, %v; want pid %d, command %q, uid %d", c.proto, port, h, ok, cmd.Process.Pid, comm, os.Getuid())
		}
		if got, want := h.String(), comm+" (pid "+strconv.Itoa(cmd.Process.Pid)+")"; got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
		// The wildcard address takes every address of the port.
		if h, ok := Find(c.proto, "0.0.0.0", port); !ok || h.PID != cmd.Process.Pid {
			t.Errorf("Find(%s, 0.0.0.0, %d) = %+v, %v; want the helper", c.proto, port, h, ok)
		}
		if h, ok := Find(c.proto, "127.0.0.2", port); ok {
			t.Errorf("Find(%s, 127.0.0.2, %d) = %+v; want nothing (the helper holds 127.0.0.1 only)", c.proto, port, h)
		}
	}
}

// TestHelperHolder is TestFindsAnotherProcess's child: it holds a TCP and
// a UDP port, prints them and waits to be killed.
func TestHelperHolder(t *testing.T) {
	if os.Getenv("PORTHOLDER_HELPER") != "1" {
		return
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString(strconv.Itoa(l.Addr().(*net.TCPAddr).Port) + " " + strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port) + "\n")
	time.Sleep(time.Minute) // not a wait: held until the test kills it (a minute at most, should it not)
}

func TestNothingOnAFreePort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	if h, ok := Find("tcp", "127.0.0.1", port); ok {
		t.Errorf("Find on a free port = %+v; want nothing", h)
	}
}

// A connected TCP socket on the port is not a holder: only LISTEN counts.
func TestOnlyListeningTCP(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	port := c.LocalAddr().(*net.TCPAddr).Port
	if h, ok := Find("tcp", "127.0.0.1", port); ok {
		t.Errorf("Find on the source port of a connection = %+v; want nothing", h)
	}
}

func TestParseSocket(t *testing.T) {
	for _, c := range []struct {
		line, ip string
		port     int
		state    string
	}{
		{"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 43210 1 0000000000000000 100 0 0 10 0", "127.0.0.1", 8080, "0A"},
		{"   1: 00000000000000000000000001000000:0035 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 999 2 0000000000000000 0", "::1", 53, "07"},
		{"   2: 0000000000000000FFFF00000100007F:4E20 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 777 1", "127.0.0.1", 20000, "0A"},
	} {
		s, ok := parseSocket(c.line)
		if !ok || !s.ip.Equal(net.ParseIP(c.ip)) || s.port != c.port || s.state != c.state {
			t.Errorf("parseSocket(%q) = %+v, %v; want %s port %d state %s", c.line, s, ok, c.ip, c.port, c.state)
		}
	}
	if _, ok := parseSocket("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"); ok {
		t.Error("the heading parsed as a socket")
	}
}

func TestStringWithoutProcess(t *testing.T) {
	if got := (Holder{UID: 0}).String(); got != "a program of user root (uid 0)" {
		t.Errorf("String() = %q", got)
	}
}
