//go:build unix

package exporter

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// openAppend opens the regular file at path for appending, creating it with
// mode when it is missing. It never follows a symbolic link at the last
// component (a dangling one is not created either) and never blocks: a FIFO
// or a device at the path is refused, with or without a reader.
func openAppend(path string, mode os.FileMode) (*os.File, error) {
	flags := os.O_WRONLY | os.O_APPEND | os.O_CREATE | syscall.O_NOFOLLOW | syscall.O_NONBLOCK | syscall.O_CLOEXEC
	file, err := os.OpenFile(path, flags, mode)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.EMLINK) {
			return nil, fmt.Errorf("audit log %s is a symbolic link; otelaudit writes only to a regular file it opens itself, never through a link: %w", path, err)
		}
		if errors.Is(err, syscall.ENXIO) {
			return nil, fmt.Errorf("audit log %s is a FIFO or a socket, not a regular file: %w", path, err)
		}
		return nil, fmt.Errorf("audit log: %w", err)
	}
	if err := regular(file); err != nil {
		file.Close()
		return nil, err
	}
	return file, nil
}

// openRead opens the file at path for reading, never through a symbolic
// link at the last component and never blocking (on a FIFO put there).
func openRead(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
}
