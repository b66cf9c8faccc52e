// Package version holds berth's version, set at build time by the Makefile.
package version

// Version is berth's version ("dev" in plain `go build` builds). The CLI
// and the agent share it: `upgrade` compares them.
var Version = "dev"
