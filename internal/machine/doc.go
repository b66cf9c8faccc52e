// Package machine keeps the named machines of a berth host and orchestrates their creation.
package machine
