package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/isocache"
)

func TestDownloadBarLine(t *testing.T) {
	b := &downloadBar{label: "berth-os.iso"}
	tests := []struct {
		p    isocache.Progress
		want string
	}{
		{isocache.Progress{Done: 5e6, Total: 20e6, Speed: 2.5e6, ETA: 6 * time.Second},
			"berth-os.iso [=======                       ]  25% 5.0 MB / 20.0 MB  2.5 MB/s  ETA 6s   "},
		{isocache.Progress{Done: 20e6, Total: 20e6, Speed: 4e6, Final: true},
			"berth-os.iso [==============================] 100% 20.0 MB / 20.0 MB  4.0 MB/s   "},
		{isocache.Progress{Done: 3e6, Total: -1, Speed: 1e6, ETA: -1},
			"berth-os.iso 3.0 MB  1.0 MB/s   "},
	}
	for _, tt := range tests {
		if got := b.line(tt.p); got != tt.want {
			t.Errorf("line(%+v)\ngot  %q\nwant %q", tt.p, got, tt.want)
		}
	}
}

func TestDownloadBarEndsTheLine(t *testing.T) {
	var out bytes.Buffer
	b := &downloadBar{w: &out, label: "x"}
	b.update(isocache.Progress{Done: 1, Total: 2})
	b.update(isocache.Progress{Done: 2, Total: 2, Final: true})
	if got := out.String(); strings.Count(got, "\r") != 2 || !strings.HasSuffix(got, "\n") {
		t.Errorf("bar output %q: want two redraws and a final newline", got)
	}
}

// TestIsTerminal: only a terminal counts; a buffer and the null device (a
// character device, as `berth save > /dev/null` and `berth load <
// /dev/null` give) do not.
func TestIsTerminal(t *testing.T) {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	tests := []struct {
		name string
		f    any
	}{
		{"a buffer", &bytes.Buffer{}},
		{os.DevNull, null},
		{"nil", nil},
	}
	for _, tt := range tests {
		if got := isTerminal(tt.f); got {
			t.Errorf("isTerminal(%s) = %v, want false", tt.name, got)
		}
	}
}
