package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/moby/moby/client"
)

// TestRunSetupFailures: a run whose container cannot be set up leaves it
// as docker does, unless it was interrupted (ctx ended): then it removes
// the container and returns ctx's error, which main reports as an
// interrupt. An invalid option is a usage error.
func TestRunSetupFailures(t *testing.T) {
	tests := []struct {
		name       string
		opts       runOptions
		attach     func(cancel context.CancelFunc, w http.ResponseWriter, r *http.Request)
		wantCode   int
		wantStderr string
		wantCalls  []string
	}{
		{
			name: "interrupted while attaching",
			opts: runOptions{Image: "busybox"},
			attach: func(cancel context.CancelFunc, w http.ResponseWriter, r *http.Request) {
				cancel() // Ctrl-C
				<-r.Context().Done()
			},
			wantCode:  exitInterrupted,
			wantCalls: []string{"POST /containers/create", "POST /containers/c1/attach", "DELETE /containers/c1"},
		},
		{
			name: "attach refused",
			opts: runOptions{Image: "busybox"},
			attach: func(_ context.CancelFunc, w http.ResponseWriter, _ *http.Request) {
				http.Error(w, `{"message":"no attach"}`, http.StatusInternalServerError)
			},
			wantCode:   125,
			wantStderr: "berth: unable to upgrade to tcp, received 500",
			wantCalls:  []string{"POST /containers/create", "POST /containers/c1/attach"},
		},
		{
			name:       "invalid option",
			opts:       runOptions{Image: "busybox", Memory: "lots"},
			wantCode:   exitUsage,
			wantStderr: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var mu sync.Mutex
			var calls []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				// Drop the API version: /v1.52/containers/create.
				_, path, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
				mu.Lock()
				calls = append(calls, r.Method+" /"+path)
				mu.Unlock()
				switch {
				case path == "containers/create":
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusCreated)
					w.Write([]byte(`{"Id":"c1","Warnings":[]}`))
				case strings.HasSuffix(path, "/attach"):
					tt.attach(cancel, w, r)
				case r.Method == http.MethodDelete:
					w.WriteHeader(http.StatusNoContent)
				default:
					http.Error(w, `{"message":"not in this test"}`, http.StatusNotFound)
				}
			}))
			defer srv.Close()
			api, err := client.New(client.WithHost("tcp://"+strings.TrimPrefix(srv.URL, "http://")), client.WithAPIVersion("1.52"))
			if err != nil {
				t.Fatal(err)
			}
			defer api.Close()

			var stdout, stderr bytes.Buffer
			err = runContainer(ctx, api, tt.opts, nil, &stdout, &stderr)
			code, _ := exitCode(err)
			if err == nil {
				code = 0
			}
			mu.Lock()
			defer mu.Unlock()
			if code != tt.wantCode || !strings.Contains(stderr.String(), tt.wantStderr) || (tt.wantStderr == "" && stderr.Len() != 0) {
				t.Errorf("run = %v: exit %d, stderr %q; want exit %d, stderr with %q", err, code, stderr.String(), tt.wantCode, tt.wantStderr)
			}
			if !slices.Equal(calls, tt.wantCalls) {
				t.Errorf("API calls %q, want %q", calls, tt.wantCalls)
			}
		})
	}
}
