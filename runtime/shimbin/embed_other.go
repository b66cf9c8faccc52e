//go:build !amd64 && !arm64

package shimbin

import "io/fs"

// No berth-shim is built for other architectures.
var files fs.FS

const dir = ""
