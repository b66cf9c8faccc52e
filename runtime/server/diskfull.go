package server

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
)

// explainDiskFull turns an error that a full disk caused into one that
// names the machine's disk (the state folder's) and says how to free it.
// Other errors are returned as they are.
func (s *Server) explainDiskFull(err error) error {
	if err == nil || !(errors.Is(err, syscall.ENOSPC) || strings.Contains(err.Error(), "no space left on device")) ||
		strings.Contains(err.Error(), diskFullPrefix) {
		return err
	}
	return WithStatus(statusOf(err), fmt.Errorf(diskFullPrefix+"%s) is full: %w; free space with docker rmi, docker rm, docker volume rm or docker system prune, or make the machine again with a larger disk", s.opts.StateDir, err))
}

const diskFullPrefix = "the machine's disk ("
