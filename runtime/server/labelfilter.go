package server

import (
	"regexp"
	"strings"
)

// matchLabels is Docker's label filter: every "KEY" or "KEY=VALUE" of
// want holds (they are ANDed) and none of not does.
func matchLabels(labels map[string]string, want, not []string) bool {
	has := func(v string) bool {
		k, val, hasVal := strings.Cut(v, "=")
		got, ok := labels[k]
		return ok && (!hasVal || got == val)
	}
	for _, v := range want {
		if !has(v) {
			return false
		}
	}
	for _, v := range not {
		if has(v) {
			return false
		}
	}
	return true
}

// matchPattern is how Docker matches name and id filters: the value is a
// regular expression found anywhere in s (a plain substring when it is
// not a valid one).
func matchPattern(pattern, s string) bool {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return strings.Contains(s, pattern)
	}
	return re.MatchString(s)
}
