// Package runtime is what the agent does inside a machine: images, containers and the API server.
package runtime
