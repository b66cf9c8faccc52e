package teamenv

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid marks a berth.yaml (or override) that cannot be used; the
// error lists every Problem.
var ErrInvalid = errors.New("invalid environment file")

// Problem is one mistake in a file: where it is and what is wrong.
type Problem struct {
	File string
	Line int
	// Key is the path of the key, "machines.app.memory".
	Key string
	Msg string
}

func (p Problem) Error() string {
	loc := p.File
	if p.Line > 0 {
		loc = fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	if p.Key != "" {
		return loc + ": " + p.Key + ": " + p.Msg
	}
	return loc + ": " + p.Msg
}

// Problems is every mistake found in one load, in file order.
type Problems []Problem

func (ps Problems) Error() string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.Error()
	}
	return "invalid environment file:\n  " + strings.Join(s, "\n  ")
}

// Is makes errors.Is(err, ErrInvalid) true.
func (ps Problems) Is(target error) bool { return target == ErrInvalid }
