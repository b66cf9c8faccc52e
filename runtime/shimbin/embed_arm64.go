package shimbin

import "embed"

//go:embed files/linux-arm64
var files embed.FS

const dir = "files/linux-arm64"
