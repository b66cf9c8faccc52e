package archive

import (
	"path"
	"strings"
)

// absPath is p as an absolute, clean path in the container, keeping a
// trailing "/" or "/." that says "the directory itself" or "what it
// holds", as Docker does.
func absPath(p string) string {
	c := path.Clean("/" + p)
	if c == "/" {
		return c
	}
	switch {
	case strings.HasSuffix(p, "/."):
		return c + "/."
	case strings.HasSuffix(p, "/"):
		return c + "/"
	}
	return c
}

// splitPath splits an absPath into the directory to resolve (symlinks
// followed) and the last element, not followed ("" or "." for the
// directory itself).
func splitPath(abs string) (dir, base string) {
	i := strings.LastIndexByte(abs, '/')
	return abs[:i+1], abs[i+1:]
}

// baseName is the name the entries of an archive of abs start with.
func baseName(abs string) string {
	if abs == "/" {
		return "."
	}
	return path.Base(abs)
}

// entryName cleans a tar entry name into a path relative to the
// extraction point, refusing one that leaves it.
func entryName(name string) (string, bool) {
	if strings.ContainsRune(name, 0) {
		return "", false
	}
	c := path.Clean(strings.TrimLeft(name, "/"))
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", false
	}
	return c, true
}
