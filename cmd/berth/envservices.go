package main

import (
	"context"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/client"

	"github.com/berthvm/berth/internal/converge"
	"github.com/berthvm/berth/internal/envup"
)

// envServices converges an environment's services with package converge.
func envServices() envup.Services {
	return envup.Services{
		Load: func(ctx context.Context, files []string, project, workDir string, profiles []string) (*types.Project, error) {
			return converge.Load(ctx, converge.LoadOptions{Files: files, Name: project, WorkDir: workDir, Profiles: profiles})
		},
		Plan: func(ctx context.Context, api client.APIClient, p *types.Project) ([]envup.ServiceChange, error) {
			cs, err := converge.Plan(ctx, api, p)
			out := make([]envup.ServiceChange, len(cs))
			for i, c := range cs {
				out[i] = envup.ServiceChange{Action: c.Action, Service: c.Service, Container: c.Container, Reason: c.Reason}
			}
			return out, err
		},
		Up: func(ctx context.Context, api client.APIClient, p *types.Project, wait bool, timeout time.Duration, progress func(envup.ServiceEvent)) ([]envup.ServiceResult, error) {
			res, err := converge.Up(ctx, api, p, converge.UpOptions{Wait: wait, WaitTimeout: timeout, Progress: func(e converge.Event) {
				progress(envup.ServiceEvent{Service: e.Service, Container: e.Container, Step: e.Step, Status: e.Status, Err: e.Err, Duration: e.Duration})
			}})
			out := make([]envup.ServiceResult, len(res.Services))
			for i, s := range res.Services {
				out[i] = envup.ServiceResult{Name: s.Name, Containers: len(s.Containers), State: s.State, Err: s.Err}
				if s.Err != nil {
					out[i].Error = s.Err.Error()
				}
			}
			return out, err
		},
		Down: func(ctx context.Context, api client.APIClient, project string, volumes bool) error {
			return converge.Down(ctx, api, project, volumes, nil)
		},
	}
}
