package container

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestMergeHealth(t *testing.T) {
	img := &HealthConfig{Test: []string{"CMD", "check"}, Interval: time.Minute, Retries: 5}
	tests := []struct {
		name       string
		image, ctr *HealthConfig
		want       *HealthConfig
	}{
		{"none", nil, nil, nil},
		{"image only", img, nil, img},
		{"container only", nil, &HealthConfig{Test: []string{"NONE"}}, &HealthConfig{Test: []string{"NONE"}}},
		{"container overrides", img, &HealthConfig{Test: []string{"CMD-SHELL", "x"}, Interval: time.Second},
			&HealthConfig{Test: []string{"CMD-SHELL", "x"}, Interval: time.Second, Retries: 5}},
		{"flags without a test keep the image's", img, &HealthConfig{Timeout: time.Second},
			&HealthConfig{Test: []string{"CMD", "check"}, Interval: time.Minute, Timeout: time.Second, Retries: 5}},
	}
	for _, tc := range tests {
		if got := MergeHealth(tc.image, tc.ctr); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: MergeHealth = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestHealthConfigValidate(t *testing.T) {
	tests := []struct {
		cfg     *HealthConfig
		wantErr string
	}{
		{nil, ""},
		{&HealthConfig{Test: []string{"CMD", "x"}, Interval: time.Second}, ""},
		{&HealthConfig{Interval: time.Microsecond}, "Interval"},
		{&HealthConfig{Retries: -1}, "Retries"},
		{&HealthConfig{Test: []string{"SHELL", "x"}}, "unknown Healthcheck type"},
	}
	for _, tc := range tests {
		err := tc.cfg.Validate()
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.cfg, err, tc.wantErr)
		}
	}
}

func TestHealthArgsAndInterval(t *testing.T) {
	tests := []struct {
		test, shell []string
		want        []string
	}{
		{[]string{"CMD", "curl", "-f", "x"}, nil, []string{"curl", "-f", "x"}},
		{[]string{"CMD-SHELL", "test -f /ok"}, nil, []string{"/bin/sh", "-c", "test -f /ok"}},
		{[]string{"CMD-SHELL", "test -f /ok"}, []string{"/bin/bash", "-ec"}, []string{"/bin/bash", "-ec", "test -f /ok"}},
		{[]string{"NONE"}, nil, nil},
		{nil, nil, nil},
	}
	for _, tc := range tests {
		if got := (&HealthConfig{Test: tc.test}).args(tc.shell); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("args of %q = %q, want %q", tc.test, got, tc.want)
		}
	}
	h := &HealthConfig{StartPeriod: 60 * time.Second}
	for _, tc := range []struct {
		since  time.Duration
		status string
		want   time.Duration
	}{
		{time.Second, HealthStarting, 5 * time.Second},
		{time.Second, HealthHealthy, 30 * time.Second},
		{50 * time.Second, HealthStarting, 10 * time.Second},
		{61 * time.Second, HealthStarting, 30 * time.Second},
	} {
		if got := h.interval(tc.since, tc.status); got != tc.want {
			t.Errorf("interval %s after start while %s = %s, want %s", tc.since, tc.status, got, tc.want)
		}
	}
}

func TestHealthRecord(t *testing.T) {
	start := time.Unix(1000, 0)
	at := func(sec int, code int) HealthResult {
		return HealthResult{Start: start.Add(time.Duration(sec) * time.Second), ExitCode: code}
	}
	tests := []struct {
		name       string
		cfg        HealthConfig
		results    []HealthResult
		wantStatus string
		wantStreak int
	}{
		{"success", HealthConfig{}, []HealthResult{at(1, 0)}, HealthHealthy, 0},
		{"failures below retries", HealthConfig{}, []HealthResult{at(1, 1), at(2, 1)}, HealthStarting, 2},
		{"retries failures", HealthConfig{}, []HealthResult{at(1, 1), at(2, 1), at(3, 2)}, HealthUnhealthy, 3},
		{"success resets", HealthConfig{Retries: 1}, []HealthResult{at(1, 1), at(2, 0)}, HealthHealthy, 0},
		{"start period forgives", HealthConfig{Retries: 1, StartPeriod: 5 * time.Second}, []HealthResult{at(1, 1), at(2, 1)}, HealthStarting, 0},
		{"after the start period", HealthConfig{Retries: 1, StartPeriod: 5 * time.Second}, []HealthResult{at(1, 1), at(6, 1)}, HealthUnhealthy, 1},
		{"healthy in the start period counts", HealthConfig{Retries: 1, StartPeriod: 5 * time.Second}, []HealthResult{at(1, 0), at(2, 1)}, HealthUnhealthy, 1},
	}
	for _, tc := range tests {
		h := Health{Status: HealthStarting}
		for _, r := range tc.results {
			h.record(&tc.cfg, r, start)
		}
		if h.Status != tc.wantStatus || h.FailingStreak != tc.wantStreak {
			t.Errorf("%s: status %s streak %d, want %s %d", tc.name, h.Status, h.FailingStreak, tc.wantStatus, tc.wantStreak)
		}
	}
	h := Health{Status: HealthStarting}
	for i := range 7 {
		h.record(&HealthConfig{}, HealthResult{ExitCode: i}, start)
	}
	if len(h.Log) != 5 || h.Log[0].ExitCode != 2 {
		t.Errorf("log: %d entries, first exit %d; want the last 5", len(h.Log), h.Log[0].ExitCode)
	}
	var out frameText
	WriteFrame(&out, StreamStdout, []byte(strings.Repeat("x", 4000)))
	WriteFrame(&out, StreamStderr, []byte(strings.Repeat("y", 200)))
	if got := out.String(); len(got) != 4099 || !strings.HasSuffix(got, "yy...") {
		t.Errorf("output kept: %d bytes ending %q; want 4096 and ...", len(got), got[len(got)-5:])
	}
}
