package converge

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/berthvm/berth/internal/imagebuild"
)

// imageName is the image a service runs: its image:, else the name
// docker compose gives the image it builds (project-service).
func imageName(p *types.Project, s types.ServiceConfig) string {
	if s.Image != "" {
		return s.Image
	}
	return p.Name + "-" + s.Name
}

// build builds a service's image through the engine's classic builder
// (context sent with .dockerignore applied), tagged imageName, each line
// of its output an Event; it returns the image ID.
func (im *images) build(ctx context.Context, p *types.Project, s types.ServiceConfig) (string, error) {
	b := s.Build
	ref := imageName(p, s)
	dockerfile := b.Dockerfile
	if dockerfile != "" && !filepath.IsAbs(dockerfile) {
		dockerfile = filepath.Join(b.Context, dockerfile)
	}
	args := map[string]*string{}
	for k, v := range b.Args {
		args[k] = v
	}
	start := time.Now()
	im.emit(Event{Service: s.Name, Step: StepBuild, Status: StatusStarted, Detail: ref})
	out := &lineEvents{emit: func(line string) {
		im.emit(Event{Service: s.Name, Step: StepBuild, Status: StatusProgress, Detail: line})
	}}
	id, err := imagebuild.Run(ctx, im.api, imagebuild.Options{
		Dir: b.Context, Dockerfile: dockerfile, Tags: []string{ref}, BuildArgs: args, Target: b.Target, NoCache: b.NoCache,
	}, out, &bytes.Buffer{})
	out.flush()
	if err != nil {
		err = fmt.Errorf("build %s for service %s: %w", ref, s.Name, err)
		im.emit(Event{Service: s.Name, Step: StepBuild, Status: StatusFailed, Err: err, Detail: ref, Duration: time.Since(start)})
		return "", err
	}
	im.emit(Event{Service: s.Name, Step: StepBuild, Status: StatusDone, Detail: ref, Duration: time.Since(start)})
	return id, nil
}

// lineEvents turns written text into one call of emit per line.
type lineEvents struct {
	emit func(string)
	buf  []byte
}

func (l *lineEvents) Write(b []byte) (int, error) {
	l.buf = append(l.buf, b...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		if line := strings.TrimSpace(string(l.buf[:i])); line != "" {
			l.emit(line)
		}
		l.buf = l.buf[i+1:]
	}
}

func (l *lineEvents) flush() {
	if line := strings.TrimSpace(string(l.buf)); line != "" {
		l.emit(line)
	}
	l.buf = nil
}
