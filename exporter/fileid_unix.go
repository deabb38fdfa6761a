//go:build unix

package exporter

import (
	"os"
	"strconv"
	"syscall"
)

// fileID identifies a file across renames.
type fileID struct{ dev, ino uint64 }

func idOf(fi os.FileInfo) fileID {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fileID{uint64(st.Dev), uint64(st.Ino)}
	}
	return fileID{}
}

// statID returns the identity of the file at path without allocating (it is
// asked before every write).
func statID(path string) (fileID, error) {
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		return fileID{}, err
	}
	return fileID{uint64(st.Dev), uint64(st.Ino)}, nil
}

// same reports whether a and b identify the same file.
func (a fileID) same(b fileID) bool { return a == b }

// handle is what File keeps of the descriptor of its open file, to ask
// whether the file was deleted without allocating (it is asked before every
// write where the path is checked with a stat, see File.current). It is
// valid while the file is open; the zero handle has no descriptor.
type handle struct {
	fd int
	ok bool
}

// handleOf returns the handle of file.
func handleOf(file *os.File) handle {
	var h handle
	if rc, err := file.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { h = handle{fd: int(fd), ok: true} })
	}
	return h
}

// deleted reports whether the file was deleted: its link count is 0 (it is
// still open, but no path names it), or it is gone from a network file
// system's server (ESTALE). A file created at its path since may have been
// given its inode number.
func (h handle) deleted() bool {
	if !h.ok {
		return false
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(h.fd, &st); err != nil {
		return err == syscall.ESTALE
	}
	return st.Nlink == 0
}

// keyOf returns the identity of fi as the chain file records it.
func keyOf(fi os.FileInfo) string {
	id := idOf(fi)
	if id == (fileID{}) {
		return ""
	}
	return strconv.FormatUint(id.dev, 10) + ":" + strconv.FormatUint(id.ino, 10)
}
