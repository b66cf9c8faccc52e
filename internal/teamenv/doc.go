// Package teamenv reads a team environment's berth.yaml (with the user's
// berth.override.yaml), checks it against the host, and works out what
// `berth up` must change on the environment's machines.
package teamenv
