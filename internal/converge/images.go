package converge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/client"
)

// images pulls each image at most once per Up, however many services
// use it, and remembers its ID.
type images struct {
	api  client.APIClient
	emit func(Event)
	mu   sync.Mutex
	m    map[string]*imageEntry
}

type imageEntry struct {
	once sync.Once
	id   string
	err  error
}

// ensure returns the ID of the image service s runs, building it (a
// service with build:, when the image is missing or pull_policy is
// build) or pulling it (when missing) first, with progress as Events.
func (im *images) ensure(ctx context.Context, p *types.Project, s types.ServiceConfig) (string, error) {
	ref := imageName(p, s)
	im.mu.Lock()
	e, ok := im.m[ref]
	if !ok {
		e = &imageEntry{}
		im.m[ref] = e
	}
	im.mu.Unlock()
	e.once.Do(func() {
		if s.Build == nil {
			e.id, e.err = im.fetch(ctx, s.Name, ref)
			return
		}
		if s.PullPolicy != types.PullPolicyBuild {
			if e.id, e.err = imageID(ctx, im.api, ref); e.err != nil || e.id != "" {
				return
			}
		}
		e.id, e.err = im.build(ctx, p, s)
	})
	return e.id, e.err
}

func (im *images) fetch(ctx context.Context, service, ref string) (string, error) {
	id, err := imageID(ctx, im.api, ref)
	if err != nil || id != "" {
		return id, err
	}
	start := time.Now()
	im.emit(Event{Service: service, Step: StepPull, Status: StatusStarted, Detail: ref})
	err = pull(ctx, im.api, ref, func(status string) {
		im.emit(Event{Service: service, Step: StepPull, Status: StatusProgress, Detail: status})
	})
	if err == nil {
		id, err = imageID(ctx, im.api, ref)
		if err == nil && id == "" {
			err = errors.New("the engine does not list it after the pull")
		}
	}
	if err != nil {
		err = fmt.Errorf("pull %s: %w", ref, err)
		im.emit(Event{Service: service, Step: StepPull, Status: StatusFailed, Err: err, Detail: ref, Duration: time.Since(start)})
		return "", err
	}
	im.emit(Event{Service: service, Step: StepPull, Status: StatusDone, Detail: ref, Duration: time.Since(start)})
	return id, nil
}

// pull pulls ref, telling progress each message ("abc123: Pull
// complete"), and returns the error the stream ends with.
func pull(ctx context.Context, api client.APIClient, ref string, progress func(string)) error {
	resp, err := api.ImagePull(ctx, ref, client.ImagePullOptions{})
	if err != nil {
		return err
	}
	defer resp.Close()
	for msg, err := range resp.JSONMessages(ctx) {
		if err != nil {
			return err
		}
		if msg.Error != nil {
			return errors.New(msg.Error.Message)
		}
		if msg.Status == "" {
			continue
		}
		s := msg.Status
		if msg.ID != "" {
			s = msg.ID + ": " + s
		}
		progress(s)
	}
	return nil
}
