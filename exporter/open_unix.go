//go:build unix

package exporter

import (
	"os"
	"syscall"
)

// openRead opens the file at path for reading, never through a symbolic
// link at the last component and never blocking (on a FIFO put there).
func openRead(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
}
