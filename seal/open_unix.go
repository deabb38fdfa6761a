//go:build unix

package seal

import (
	"fmt"
	"os"
	"syscall"
)

// openNonBlock makes an open of a FIFO return at once instead of waiting
// for a writer; it changes nothing for a regular file.
const openNonBlock = syscall.O_NONBLOCK

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
