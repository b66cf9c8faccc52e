package main

import (
	"errors"

	"github.com/berthvm/berth/provision"
)

// insecureRegistryFlagUsage explains --insecure-registry for create and
// provision.
const insecureRegistryFlagUsage = "a registry `HOST[:PORT]` the machine may pull from over plain HTTP (no TLS); repeatable"

// parseInsecureRegistries reads --insecure-registry values (see
// provision.ParseInsecureRegistries); a bad one is a usage error.
func parseInsecureRegistries(in []string) ([]string, error) {
	hosts, err := provision.ParseInsecureRegistries(in)
	var bad *provision.BadRegistriesError
	if errors.As(err, &bad) {
		return nil, &usageError{err}
	}
	return hosts, err
}
