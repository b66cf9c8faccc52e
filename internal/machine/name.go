package machine

import (
	"errors"
	"fmt"
	"regexp"
)

// MaxNameLen is the longest machine name: a DNS label, since the name
// becomes the guest's hostname.
const MaxNameLen = 63

// ErrInvalidName marks a machine name that breaks the naming rule.
var ErrInvalidName = errors.New("invalid machine name")

var nameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9.-]*$`)

// nameRule is the rule as users read it in error messages.
const nameRule = "names start with a letter or digit, hold only letters, digits, '.' and '-', and are at most 63 characters"

// ValidateName refuses a name that could not be a folder name and a
// hostname. It touches nothing on disk.
func ValidateName(name string) error {
	if len(name) > MaxNameLen || !nameRE.MatchString(name) || name == "." || name == ".." {
		return fmt.Errorf("%w %q: %s", ErrInvalidName, name, nameRule)
	}
	return nil
}
