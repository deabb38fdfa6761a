//go:build unix

package safefile

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

func open(path string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, perm)
	switch {
	case err == nil:
		return f, nil
	case errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.EMLINK):
		return nil, fmt.Errorf("%s is a symbolic link; only a regular file opened directly is written, never through a link: %w", path, err)
	case errors.Is(err, syscall.ENXIO):
		return nil, fmt.Errorf("%s is a FIFO or a socket, not a regular file: %w", path, err)
	}
	return nil, err
}
