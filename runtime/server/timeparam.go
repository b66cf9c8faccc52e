package server

import (
	"strconv"
	"strings"
	"time"
)

// parseTimeParam reads a since or until parameter in the forms Docker
// takes: unix seconds with an optional fraction ("1700000000.5"), a
// duration back from now ("10m", "1h30m"), or an RFC 3339 time, whole
// or shortened ("2024-05-01T10:00:00Z", "2024-05-01T10:00",
// "2024-05-01"; without a zone, local time). Empty is the zero time.
func parseTimeParam(v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(v); err == nil && v != "0" {
		return now.Add(-d), nil
	}
	if !strings.ContainsAny(v, "-:T") {
		return parseUnixTime(v)
	}
	var firstErr error
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02Z07:00"} {
		t, err := time.Parse(layout, v)
		if err == nil {
			return t, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02T15", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, now.Location()); err == nil {
			return t, nil
		}
	}
	return time.Time{}, firstErr
}

// parseUnixTime reads unix seconds with an optional fraction of up to
// nine digits ("1700000000.000000001").
func parseUnixTime(v string) (time.Time, error) {
	sec, frac, _ := strings.Cut(v, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	var ns int64
	if frac != "" {
		frac = (frac + "000000000")[:9]
		if ns, err = strconv.ParseInt(frac, 10, 64); err != nil {
			return time.Time{}, err
		}
	}
	return time.Unix(s, ns), nil
}
