package isoembed

import "embed"

//go:embed files/amd64
var files embed.FS

const arch = "amd64"
