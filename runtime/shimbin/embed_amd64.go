package shimbin

import "embed"

//go:embed files/linux-amd64
var files embed.FS

const dir = "files/linux-amd64"
