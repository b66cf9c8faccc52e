//go:build !amd64 && !arm64

package isoembed

import "embed"

// files is empty: berth-os exists for amd64 and arm64 only.
var files embed.FS

const arch = ""
