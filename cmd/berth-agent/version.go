package main

import (
	"fmt"
	"io"

	"github.com/berthvm/berth/internal/version"
)

func versionCmd(stdout io.Writer) error {
	_, err := fmt.Fprintln(stdout, version.Version)
	return err
}
