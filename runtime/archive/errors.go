package archive

import "errors"

// Sentinel errors, for the API's status codes.
var (
	// ErrNotFound: the path does not exist in the container.
	ErrNotFound = errors.New("no such file or directory")
	// ErrNotDir: an extraction point that is not a directory.
	ErrNotDir = errors.New("extraction point is not a directory")
	// ErrRefused: a tar entry that would leave its destination or
	// replace a directory by a file (or the reverse) when that is not
	// allowed.
	ErrRefused = errors.New("refused")
)
