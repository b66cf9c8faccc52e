package container

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// HealthConfig is a container's health check, as Docker's HEALTHCHECK and
// --health-* flags give it. Test is ["CMD", args...], ["CMD-SHELL",
// command] or ["NONE"]; zero durations and retries take Docker's defaults.
type HealthConfig struct {
	Test          []string      `json:"Test,omitempty"`
	Interval      time.Duration `json:"Interval,omitempty"`
	Timeout       time.Duration `json:"Timeout,omitempty"`
	StartPeriod   time.Duration `json:"StartPeriod,omitempty"`
	StartInterval time.Duration `json:"StartInterval,omitempty"`
	Retries       int           `json:"Retries,omitempty"`
}

// Docker's health check defaults and limits.
const (
	defaultHealthInterval      = 30 * time.Second
	defaultHealthTimeout       = 30 * time.Second
	defaultHealthStartInterval = 5 * time.Second
	defaultHealthRetries       = 3
	minHealthDuration          = time.Millisecond
	healthLogEntries           = 5
	healthOutputMax            = 4096
)

// Health statuses, as Docker names them.
const (
	HealthStarting  = "starting"
	HealthHealthy   = "healthy"
	HealthUnhealthy = "unhealthy"
)

// ActionHealthStatus is the event action of a health status change; the
// event's action is "health_status: " + the new status.
const ActionHealthStatus = "health_status"

// Health is a container's health (State.Health of docker inspect).
type Health struct {
	Status        string         `json:"Status"`
	FailingStreak int            `json:"FailingStreak"`
	Log           []HealthResult `json:"Log"`
}

// HealthResult is one run of the health check.
type HealthResult struct {
	Start    time.Time `json:"Start"`
	End      time.Time `json:"End"`
	ExitCode int       `json:"ExitCode"`
	Output   string    `json:"Output"`
}

// ErrBadHealthcheck is returned for a health check Docker refuses.
var ErrBadHealthcheck = errors.New("invalid health check")

// MergeHealth is the health check a container runs: the container's, with
// what it leaves unset taken from the image's (Docker's merge at create).
// Either may be nil.
func MergeHealth(image, ctr *HealthConfig) *HealthConfig {
	if ctr == nil {
		if image == nil {
			return nil
		}
		c := *image
		return &c
	}
	c := *ctr
	if image == nil {
		return &c
	}
	if len(c.Test) == 0 {
		c.Test = image.Test
	}
	if c.Interval == 0 {
		c.Interval = image.Interval
	}
	if c.Timeout == 0 {
		c.Timeout = image.Timeout
	}
	if c.StartPeriod == 0 {
		c.StartPeriod = image.StartPeriod
	}
	if c.StartInterval == 0 {
		c.StartInterval = image.StartInterval
	}
	if c.Retries == 0 {
		c.Retries = image.Retries
	}
	return &c
}

// Validate checks the durations and retries as Docker does at create.
func (h *HealthConfig) Validate() error {
	if h == nil {
		return nil
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"Interval", h.Interval}, {"Timeout", h.Timeout}, {"StartPeriod", h.StartPeriod}, {"StartInterval", h.StartInterval}} {
		if d.v != 0 && d.v < minHealthDuration {
			return fmt.Errorf("%w: %s in Healthcheck cannot be less than %s", ErrBadHealthcheck, d.name, minHealthDuration)
		}
	}
	if h.Retries < 0 {
		return fmt.Errorf("%w: Retries in Healthcheck cannot be negative", ErrBadHealthcheck)
	}
	if len(h.Test) > 0 {
		switch h.Test[0] {
		case "NONE", "CMD", "CMD-SHELL":
		default:
			return fmt.Errorf("%w: unknown Healthcheck type %q: use CMD, CMD-SHELL or NONE", ErrBadHealthcheck, h.Test[0])
		}
	}
	return nil
}

// args is the command the check runs, CMD-SHELL with shell (default
// /bin/sh -c); nil when there is none to run (no test, or NONE).
func (h *HealthConfig) args(shell []string) []string {
	if h == nil || len(h.Test) < 2 {
		return nil
	}
	switch h.Test[0] {
	case "CMD":
		return h.Test[1:]
	case "CMD-SHELL":
		if len(shell) == 0 {
			shell = []string{"/bin/sh", "-c"}
		}
		return append(slices.Clone(shell), h.Test[1])
	}
	return nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// interval is the wait before the next check, as Docker times it:
// Interval, but within the start period no later than its end, and
// StartInterval (5 s by default) while the container is still starting.
func (h *HealthConfig) interval(sinceStart time.Duration, status string) time.Duration {
	every := orDefault(h.Interval, defaultHealthInterval)
	if sinceStart >= h.StartPeriod {
		return every
	}
	if left := h.StartPeriod - sinceStart; left < every {
		return left
	}
	if status == HealthStarting {
		return orDefault(h.StartInterval, defaultHealthStartInterval)
	}
	return every
}

// record adds result to h as Docker does: success makes the container
// healthy; a failure out of the start period (or after the container was
// healthy once) adds to the failing streak, and Retries failures in a row
// make it unhealthy. The log keeps the last 5 results.
func (h *Health) record(cfg *HealthConfig, result HealthResult, startedAt time.Time) {
	h.Log = append(h.Log, result)
	if n := len(h.Log); n > healthLogEntries {
		h.Log = append([]HealthResult(nil), h.Log[n-healthLogEntries:]...)
	}
	if result.ExitCode == 0 {
		h.FailingStreak = 0
		h.Status = HealthHealthy
		return
	}
	if h.Status == HealthStarting && result.Start.Sub(startedAt) < cfg.StartPeriod {
		return
	}
	h.FailingStreak++
	retries := cfg.Retries
	if retries == 0 {
		retries = defaultHealthRetries
	}
	if h.FailingStreak >= retries {
		h.Status = HealthUnhealthy
	}
}
