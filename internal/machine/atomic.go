package machine

import "github.com/berthvm/berth/internal/atomicfile"

// writeFileAtomic writes data to path through a temporary file in the same
// folder, flushed to disk, and a rename, so that readers see the old or
// the new content, never a part; the file's mode is 0600.
func writeFileAtomic(path string, data []byte) error {
	return atomicfile.Write(path, data, atomicfile.Sync())
}
