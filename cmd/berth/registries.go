package main

import (
	"net"
	"strconv"
	"strings"
)

// insecureRegistryFlagUsage explains --insecure-registry for create and
// provision.
const insecureRegistryFlagUsage = "a registry `HOST[:PORT]` the machine may pull from over plain HTTP (no TLS); repeatable"

// parseInsecureRegistries checks --insecure-registry values (host or
// host:port, as docker's daemon.json takes them), naming every bad one.
// Empty values are dropped, so `--insecure-registry ""` means none.
func parseInsecureRegistries(in []string) ([]string, error) {
	var out, bad []string
	for _, r := range in {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		if !validRegistryHost(r) {
			bad = append(bad, strconv.Quote(r))
			continue
		}
		out = append(out, r)
	}
	if len(bad) > 0 {
		return nil, usagef("invalid --insecure-registry %s: give HOST or HOST:PORT, such as 10.0.2.2:5000 (no scheme, no path)", strings.Join(bad, ", "))
	}
	return out, nil
}

func validRegistryHost(r string) bool {
	host, port := r, ""
	if h, p, err := net.SplitHostPort(r); err == nil {
		host, port = h, p
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return false
		}
	}
	if host == "" || strings.ContainsAny(host, "/@ \t\n'\"\\") || strings.Contains(host, "://") {
		return false
	}
	return true
}
