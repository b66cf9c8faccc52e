package isoembed

import "embed"

//go:embed files/arm64
var files embed.FS

const arch = "arm64"
