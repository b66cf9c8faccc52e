package imagebuild

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"
	"github.com/moby/moby/client/pkg/jsonmessage"
)

// Options are berth build's flags.
type Options struct {
	Dir        string
	Dockerfile string
	Tags       []string
	BuildArgs  map[string]*string
	Target     string
	NoCache    bool
	// Terminal redraws the progress line in place.
	Terminal bool
}

// Run tars opts.Dir, sends it to the agent api with the build options,
// writes the build's output to out and the sending progress to progress,
// and returns the image ID (also printed last on out).
func Run(ctx context.Context, api client.APIClient, opts Options, out, progress io.Writer) (string, error) {
	name, err := contextName(opts.Dir, opts.Dockerfile)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	defer pr.Close()
	cr := &countingReader{r: pr}
	stop := showSending(cr, progress, opts.Terminal)
	ctxErr := make(chan error, 1)
	go func() {
		_, err := WriteContext(ctx, pw, opts.Dir, opts.Dockerfile)
		pw.CloseWithError(err)
		stop()
		ctxErr <- err
	}()
	resp, err := api.ImageBuild(ctx, cr, client.ImageBuildOptions{
		Tags: opts.Tags, Dockerfile: name, BuildArgs: opts.BuildArgs, Target: opts.Target,
		NoCache: opts.NoCache, Remove: true, Version: build.BuilderV1,
	})
	if err != nil {
		pr.CloseWithError(err)
		if werr := <-ctxErr; werr != nil && !errors.Is(werr, io.ErrClosedPipe) && !errors.Is(werr, err) {
			return "", werr
		}
		return "", fmt.Errorf("build: %w", err)
	}
	defer resp.Body.Close()
	var id string
	aux := func(m jsonstream.Message) {
		if m.Aux == nil {
			return
		}
		var r build.Result
		if json.Unmarshal(*m.Aux, &r) == nil && r.ID != "" {
			id = r.ID
		}
	}
	if f, ok := out.(*os.File); ok && opts.Terminal {
		err = jsonmessage.DisplayJSONMessagesStream(resp.Body, out, f.Fd(), true, aux)
	} else {
		err = jsonmessage.DisplayStream(resp.Body, out, jsonmessage.WithAuxCallback(aux))
	}
	// A build that failed early stops reading the context: free its
	// writer.
	pr.CloseWithError(io.ErrClosedPipe)
	werr := <-ctxErr
	if err != nil {
		return "", err
	}
	if werr != nil && !errors.Is(werr, io.ErrClosedPipe) {
		return "", werr
	}
	if id == "" {
		return "", errors.New("build: the agent sent no image ID")
	}
	fmt.Fprintln(out, id)
	return id, nil
}

// contextName is the name the Dockerfile gets in the context, worked
// out as WriteContext does (an outside one gets a random name: it is
// read from the first run).
func contextName(dir, dockerfile string) (string, error) {
	_, name, err := locateDockerfile(dir, dockerfile)
	return name, err
}

type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// showSending prints "Sending build context to the machine  N" while the
// context goes: redrawn on a terminal, one line at the end otherwise.
func showSending(cr *countingReader, w io.Writer, terminal bool) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	line := func() string {
		return fmt.Sprintf("Sending build context to the machine  %s", units.HumanSizeWithPrecision(float64(cr.n.Load()), 4))
	}
	go func() {
		defer close(finished)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				if terminal {
					fmt.Fprintf(w, "\r%s\n", line())
				} else {
					fmt.Fprintln(w, line())
				}
				return
			case <-tick.C:
				if terminal {
					fmt.Fprintf(w, "\r%s", line())
				}
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(done) })
		<-finished
	}
}
