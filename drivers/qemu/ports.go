package qemu

import "github.com/berthvm/berth/internal/hostport"

// sshPort returns preferred when it is free, else a free port.
func sshPort(preferred int) (int, error) { return hostport.Keep(preferred) }
