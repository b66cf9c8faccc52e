// Command imagebench measures berth's image store against the machine's
// Docker Engine: pull + unpack of the ~100 MB, five-layer test image from a
// local registry (berth vs docker pull, same registry), and load of the
// same image as a docker-save tarball. Run as root: make bench.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/berthvm/berth/internal/testimages"
	"github.com/berthvm/berth/internal/testregistry"
	"github.com/berthvm/berth/runtime/image"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func main() {
	runs := flag.Int("runs", 3, "runs of each measurement (the median is reported)")
	useDocker := flag.Bool("docker", true, "also time docker pull (needs the Docker Engine)")
	flag.Parse()
	if err := run(context.Background(), *runs, *useDocker); err != nil {
		fmt.Fprintln(os.Stderr, "imagebench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, runs int, useDocker bool) error {
	img, err := testimages.Big()
	if err != nil {
		return err
	}
	reg, err := testregistry.Run(testregistry.Options{})
	if err != nil {
		return err
	}
	defer reg.Stop()
	ref := reg.Host + "/berth-bench/big:latest"
	if err := testimages.Push(ctx, ref, img, "", ""); err != nil {
		return err
	}
	size, err := imageSize(img)
	if err != nil {
		return err
	}
	fmt.Printf("image: %s, %d layers, %.1f MB compressed\n", ref, testimages.BigLayers, float64(size)/1e6)

	work, err := os.MkdirTemp("", "berth-imagebench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	berthPull, err := median(runs, func(i int) (time.Duration, error) {
		s, err := image.Open(filepath.Join(work, fmt.Sprintf("pull%d", i)), image.Options{})
		if err != nil {
			return 0, err
		}
		defer s.Close()
		start := time.Now()
		_, err = s.Pull(ctx, ref, image.PullOptions{})
		return time.Since(start), err
	})
	if err != nil {
		return fmt.Errorf("berth pull: %w", err)
	}
	fmt.Printf("berth pull+unpack:   %6.2f s (median of %d)\n", berthPull.Seconds(), runs)

	tarball := filepath.Join(work, "big.tar")
	var buf bytes.Buffer
	if err := testimages.WriteDockerArchive(&buf, map[string]v1.Image{"berth-bench/big:latest": img}); err != nil {
		return err
	}
	if err := os.WriteFile(tarball, buf.Bytes(), 0o600); err != nil {
		return err
	}
	buf = bytes.Buffer{}
	berthLoad, err := median(runs, func(i int) (time.Duration, error) {
		s, err := image.Open(filepath.Join(work, fmt.Sprintf("load%d", i)), image.Options{})
		if err != nil {
			return 0, err
		}
		defer s.Close()
		f, err := os.Open(tarball)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		start := time.Now()
		_, err = s.Load(ctx, f, nil)
		return time.Since(start), err
	})
	if err != nil {
		return fmt.Errorf("berth load: %w", err)
	}
	fmt.Printf("berth load (tarball): %6.2f s (median of %d)\n", berthLoad.Seconds(), runs)

	if !useDocker {
		return nil
	}
	dockerPull, err := median(runs, func(int) (time.Duration, error) {
		exec.Command("docker", "rmi", "-f", ref).Run()
		start := time.Now()
		out, err := exec.CommandContext(ctx, "docker", "pull", "-q", ref).CombinedOutput()
		d := time.Since(start)
		if err != nil {
			return 0, fmt.Errorf("%v: %s", err, strings.TrimSpace(string(out)))
		}
		return d, nil
	})
	exec.Command("docker", "rmi", "-f", ref).Run()
	if err != nil {
		return fmt.Errorf("docker pull: %w", err)
	}
	fmt.Printf("docker pull:         %6.2f s (median of %d)\n", dockerPull.Seconds(), runs)
	fmt.Printf("ratio docker/berth:  %6.2f (above 1: berth is faster)\n", dockerPull.Seconds()/berthPull.Seconds())

	dockerLoad, err := median(runs, func(int) (time.Duration, error) {
		exec.Command("docker", "rmi", "-f", "berth-bench/big:latest").Run()
		start := time.Now()
		out, err := exec.CommandContext(ctx, "docker", "load", "-q", "-i", tarball).CombinedOutput()
		d := time.Since(start)
		if err != nil {
			return 0, fmt.Errorf("%v: %s", err, strings.TrimSpace(string(out)))
		}
		return d, nil
	})
	exec.Command("docker", "rmi", "-f", "berth-bench/big:latest").Run()
	if err != nil {
		return fmt.Errorf("docker load: %w", err)
	}
	fmt.Printf("docker load:         %6.2f s (median of %d)\n", dockerLoad.Seconds(), runs)
	fmt.Printf("load ratio docker/berth: %6.2f\n", dockerLoad.Seconds()/berthLoad.Seconds())
	return nil
}

func imageSize(img v1.Image) (int64, error) {
	layers, err := img.Layers()
	if err != nil {
		return 0, err
	}
	var n int64
	for _, l := range layers {
		s, err := l.Size()
		if err != nil {
			return 0, err
		}
		n += s
	}
	return n, nil
}

// median runs f n times (dropping page cache effects is left to the
// caller) and returns the median duration.
func median(n int, f func(i int) (time.Duration, error)) (time.Duration, error) {
	var ds []time.Duration
	for i := 0; i < n; i++ {
		d, err := f(i)
		if err != nil {
			return 0, err
		}
		ds = append(ds, d)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2], nil
}
