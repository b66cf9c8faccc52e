package main

import "fmt"

// exitStatus is an error that makes berth exit with a container's code,
// silently (berth run, berth exec).
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// ExitCode is the code berth exits with.
func (e exitStatus) ExitCode() int { return int(e) }
