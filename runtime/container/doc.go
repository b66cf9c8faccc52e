// Package container runs OCI image processes as Linux containers (namespaces, overlayfs, cgroup v2) supervised by a per-container monitor that outlives the agent.
package container
