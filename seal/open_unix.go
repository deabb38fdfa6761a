//go:build unix

package seal

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// openNonBlock makes an open of a FIFO return at once instead of waiting
// for a writer; it changes nothing for a regular file.
const openNonBlock = syscall.O_NONBLOCK

// openAppendRegular opens the regular file at path for appending, creating
// it (mode 0600) when it is missing. It never follows a symbolic link at the
// last component and never blocks: a FIFO or device there is refused.
func openAppendRegular(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.EMLINK) {
			return nil, fmt.Errorf("%s is a symbolic link; checkpoints are written only to a regular file, never through a link: %w", path, err)
		}
		if errors.Is(err, syscall.ENXIO) {
			return nil, fmt.Errorf("%s is a FIFO or a socket, not a regular file: %w", path, err)
		}
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		if err == nil {
			err = fmt.Errorf("%s is not a regular file (%s)", path, fi.Mode().Type())
		}
		return nil, err
	}
	return f, nil
}

// fileIDOf returns "device:inode" of fi.
func fileIDOf(fi os.FileInfo) string {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fmt.Sprintf("%d:%d", uint64(st.Dev), uint64(st.Ino))
	}
	return ""
}

// linked reports whether the open file still has a name (it was not
// deleted).
func linked(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return !ok || st.Nlink > 0
}

// keyModesMatter: file modes guard the private key here.
const keyModesMatter = true
