//go:build !unix

package image

import "errors"

func lockRoot(string) (func(), error) {
	return nil, errors.New("the image store runs on Linux only")
}
