package runspec

import (
	"errors"
	"fmt"
)

// ErrInvalid matches (errors.Is) every error of an option that is not
// valid: a usage error, as opposed to a file that cannot be read.
var ErrInvalid = errors.New("invalid run option")

// invalidError is an invalid option; its message is the one it was made
// with.
type invalidError struct{ err error }

func (e *invalidError) Error() string   { return e.err.Error() }
func (e *invalidError) Unwrap() []error { return []error{e.err, ErrInvalid} }

// invalidf makes an invalidError.
func invalidf(format string, args ...any) error {
	return &invalidError{fmt.Errorf(format, args...)}
}
