// Command testimages writes berth's offline test images (busybox, hello,
// layered, big) to a registry or to tarballs, for demos, scripts and
// machines under test:
//
//	testimages push HOST:PORT [NAME...]   push to a plain-HTTP registry
//	testimages save DIR [NAME...]         write NAME.docker.tar and NAME.oci.tar
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/berthvm/berth/internal/testimages"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

var all = []string{"busybox", "hello", "layered", "big"}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: testimages push HOST:PORT [NAME...] | save DIR [NAME...]   (names: busybox hello layered big)")
		os.Exit(2)
	}
	names := os.Args[3:]
	if len(names) == 0 {
		names = all[:3]
	}
	var err error
	switch os.Args[1] {
	case "push":
		err = push(context.Background(), os.Args[2], names)
	case "save":
		err = save(os.Args[2], names)
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "testimages:", err)
		os.Exit(1)
	}
}

func build(name string) (v1.Image, error) {
	switch name {
	case "busybox":
		return testimages.Busybox()
	case "hello":
		return testimages.Hello(runtime.GOARCH)
	case "layered":
		return testimages.Layered()
	case "big":
		return testimages.Big()
	}
	return nil, fmt.Errorf("no test image %q (have %v)", name, all)
}

func push(ctx context.Context, host string, names []string) error {
	for _, n := range names {
		ref := host + "/" + n + ":latest"
		if n == "hello" {
			idx, err := testimages.HelloIndex()
			if err != nil {
				return err
			}
			if err := testimages.PushIndex(ctx, ref, idx, "", ""); err != nil {
				return err
			}
		} else {
			img, err := build(n)
			if err != nil {
				return err
			}
			if err := testimages.Push(ctx, ref, img, "", ""); err != nil {
				return err
			}
		}
		fmt.Println("pushed", ref)
	}
	return nil
}

func save(dir string, names []string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, n := range names {
		img, err := build(n)
		if err != nil {
			return err
		}
		imgs := map[string]v1.Image{n + ":latest": img}
		for _, f := range []struct {
			suffix string
			write  func(*os.File) error
		}{
			{".docker.tar", func(f *os.File) error { return testimages.WriteDockerArchive(f, imgs) }},
			{".oci.tar", func(f *os.File) error {
				return testimages.WriteOCIArchive(f, map[string]v1.Image{"docker.io/library/" + n + ":latest": img})
			}},
		} {
			p := filepath.Join(dir, n+f.suffix)
			out, err := os.Create(p)
			if err != nil {
				return err
			}
			if err := f.write(out); err != nil {
				out.Close()
				return err
			}
			if err := out.Close(); err != nil {
				return err
			}
			fmt.Println("wrote", p)
		}
	}
	return nil
}
