package server

import (
	"net/http"
	"slices"

	"github.com/berthvm/berth/runtime/container"
	"github.com/berthvm/berth/runtime/image"
	ctypes "github.com/moby/moby/api/types/container"
)

// healthFromRequest merges the image's HEALTHCHECK with the request's
// (--health-*, compose healthcheck:), as Docker does at create, and
// returns it with the shell CMD-SHELL checks run with (the request's,
// else the image's SHELL).
func healthFromRequest(images *image.Store, imageID string, cfg *ctypes.Config) (*container.HealthConfig, []string, error) {
	var fromImage *container.HealthConfig
	shell := cfg.Shell
	if dc, err := images.DockerConfig(imageID); err == nil {
		if dc.Healthcheck != nil {
			fromImage = healthConfig(dc.Healthcheck)
		}
		if len(shell) == 0 {
			shell = dc.Shell
		}
	}
	h := container.MergeHealth(fromImage, healthConfig(cfg.Healthcheck))
	if err := h.Validate(); err != nil {
		return nil, nil, WithStatus(http.StatusBadRequest, err)
	}
	return h, shell, nil
}

func healthConfig(h *ctypes.HealthConfig) *container.HealthConfig {
	if h == nil {
		return nil
	}
	c := container.HealthConfig(*h)
	return &c
}

// inspectHealthConfig is Config.Healthcheck of docker inspect.
func inspectHealthConfig(h *container.HealthConfig) *ctypes.HealthConfig {
	if h == nil {
		return nil
	}
	c := ctypes.HealthConfig(*h)
	return &c
}

// inspectHealth is State.Health of docker inspect.
func inspectHealth(h *container.Health) *ctypes.Health {
	if h == nil {
		return nil
	}
	out := &ctypes.Health{Status: ctypes.HealthStatus(h.Status), FailingStreak: h.FailingStreak, Log: []*ctypes.HealthcheckResult{}}
	for _, l := range h.Log {
		out.Log = append(out.Log, &ctypes.HealthcheckResult{Start: l.Start, End: l.End, ExitCode: l.ExitCode, Output: l.Output})
	}
	return out
}

// healthSuffix is what docker ps adds to "Up 3 seconds" for a container
// with a health check.
func healthSuffix(st container.State, h *container.Health) string {
	if h == nil || st.Status != container.StatusRunning {
		return ""
	}
	if h.Status == container.HealthStarting {
		return " (health: starting)"
	}
	return " (" + h.Status + ")"
}

// summaryHealth is the Health of a docker ps entry.
func summaryHealth(h *container.Health) *ctypes.HealthSummary {
	if h == nil {
		return &ctypes.HealthSummary{Status: ctypes.NoHealthcheck}
	}
	return &ctypes.HealthSummary{Status: ctypes.HealthStatus(h.Status), FailingStreak: h.FailingStreak}
}

// matchHealth is docker ps --filter health=starting|healthy|unhealthy|none.
func matchHealth(want []string, h *container.Health) bool {
	status := string(ctypes.NoHealthcheck)
	if h != nil {
		status = h.Status
	}
	return len(want) == 0 || slices.Contains(want, status)
}
