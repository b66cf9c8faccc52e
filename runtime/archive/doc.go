// Package archive copies files into and out of a container's root
// filesystem as tar streams (docker cp), resolving every path inside that
// root so that no client path or planted symlink reaches outside it.
package archive
