//go:build unix

package exporter

import (
	"fmt"
	"path/filepath"
	"syscall"
)

// minFree is the free space below which Healthy reports the audit log's file
// system as full: room for a few thousand lines.
const minFree = 1 << 20

// checkSpace returns an error when the file system holding path has less
// than minFree bytes free for an unprivileged writer.
func checkSpace(path string) error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(filepath.Dir(path), &st); err != nil {
		return fmt.Errorf("audit log %s: %w", path, err)
	}
	if free := uint64(st.Bavail) * uint64(st.Bsize); free < minFree {
		return fmt.Errorf("audit log %s: only %d bytes free on its file system", path, free)
	}
	return nil
}
