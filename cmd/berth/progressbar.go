package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/berthvm/berth/internal/isocache"
)

// isTerminal reports whether f is an *os.File open on a terminal, where
// progress bars may redraw a line. Other character devices, such as
// /dev/null, are not terminals.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}

// downloadBar draws the progress of a download on one line of w.
type downloadBar struct {
	w     io.Writer
	label string
}

const barWidth = 30

func (b *downloadBar) update(p isocache.Progress) {
	fmt.Fprint(b.w, "\r"+b.line(p))
	if p.Final {
		fmt.Fprintln(b.w)
	}
}

// line renders p: label, bar, percent, bytes, speed and time left.
func (b *downloadBar) line(p isocache.Progress) string {
	var s strings.Builder
	s.WriteString(b.label + " ")
	if p.Total > 0 {
		done := int(float64(barWidth) * float64(p.Done) / float64(p.Total))
		done = min(max(done, 0), barWidth)
		s.WriteString("[" + strings.Repeat("=", done) + strings.Repeat(" ", barWidth-done) + "]")
		fmt.Fprintf(&s, " %3d%% %s / %s", int(100*p.Done/p.Total), mb(p.Done), mb(p.Total))
	} else {
		s.WriteString(mb(p.Done))
	}
	fmt.Fprintf(&s, "  %s/s", mb(int64(p.Speed)))
	if p.ETA > 0 {
		fmt.Fprintf(&s, "  ETA %s", p.ETA.Round(time.Second))
	}
	return s.String() + "   " // clears what a longer previous line left
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
