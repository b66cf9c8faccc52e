package machine

import "errors"

// DefaultName is the machine commands use when none is named and
// BERTH_MACHINE is unset.
const DefaultName = "default"

// ErrNoActive marks a command that needs a machine when none was named,
// BERTH_MACHINE is unset and no machine is called "default".
var ErrNoActive = errors.New("no machine named: pass -m NAME, set BERTH_MACHINE, or create a machine called \"default\"")

// ActiveName picks the machine a command works on: explicit when set, else
// env (the value of $BERTH_MACHINE), else "default" when it exists.
func (s *Store) ActiveName(explicit, env string) (string, error) {
	for _, n := range []string{explicit, env} {
		if n != "" {
			if err := ValidateName(n); err != nil {
				return "", err
			}
			return n, nil
		}
	}
	if s.Exists(DefaultName) {
		return DefaultName, nil
	}
	return "", ErrNoActive
}
