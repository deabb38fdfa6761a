//go:build linux

package exporter

import (
	"path/filepath"
	"syscall"
)

// watch tells File when the path of audit.log may name another file than
// the one it has open, so that File does not stat(2) the path before every
// write. It is an inotify instance watching the open file (IN_ATTRIB: an
// unlink or a rename over it changes its link count; IN_MOVE_SELF;
// IN_DELETE_SELF) and every folder on the way to it, lexically and with
// symbolic links resolved (an entry deleted, moved away or moved in;
// the folder itself deleted or moved). The kernel queues these events before
// the unlink(2) or rename(2) that causes them returns, so a non-blocking
// read(2) of the instance before each write (about half the cost of the
// stat(2) it replaces, and nothing to parse when it finds nothing) sees every
// change made before the write began, as the stat did. Any event at all,
// including a queue overflow or a spurious one (a chmod, a hard link, another
// file of the folder deleted), only makes File check the path with stat(2) as
// before.
//
// Where inotify cannot be trusted to see every change — a file system other
// than the local ones listed in localFS (NFS, FUSE and the like change behind
// the kernel's back), no inotify instance or watch left — the watch is off
// and File stats the path before every write. A file system mounted over a
// folder of the path is not an event; that is not a deletion, move or
// replacement of audit.log.
type watch struct {
	on      bool // fd is an inotify instance with every watch in place
	fd      int
	pending bool // check the path at the next write whatever the instance says
	buf     [4096]byte
}

const (
	fileEvents = syscall.IN_ATTRIB | syscall.IN_MOVE_SELF | syscall.IN_DELETE_SELF
	dirEvents  = syscall.IN_DELETE | syscall.IN_MOVED_FROM | syscall.IN_MOVED_TO |
		syscall.IN_MOVE_SELF | syscall.IN_DELETE_SELF | syscall.IN_ONLYDIR
)

// localFS are the file systems (statfs f_type) whose changes all pass
// through this kernel, so that inotify sees them.
var localFS = map[int64]bool{
	0xEF53:     true, // ext2, ext3, ext4
	0x58465342: true, // xfs
	0x9123683E: true, // btrfs
	0x01021994: true, // tmpfs
	0x794C7630: true, // overlayfs
	0xF2F52010: true, // f2fs
	0x2FC12FC1: true, // zfs
}

// start watches the file open at path (the caller has just opened it);
// without success the watch is off. Either way the next write checks the
// path once: the file may have been replaced before the watches were in
// place.
func (w *watch) start(path string) {
	w.stop()
	w.pending = true
	var sfs syscall.Statfs_t
	if syscall.Statfs(path, &sfs) != nil || !localFS[int64(sfs.Type)] {
		return
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return
	}
	fd, err := syscall.InotifyInit1(syscall.IN_NONBLOCK | syscall.IN_CLOEXEC)
	if err != nil {
		return
	}
	if _, err := syscall.InotifyAddWatch(fd, abs, fileEvents|syscall.IN_DONT_FOLLOW); err != nil {
		syscall.Close(fd)
		return
	}
	dirs := ancestors(filepath.Dir(abs), nil)
	if real, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil && real != filepath.Dir(abs) {
		dirs = ancestors(real, dirs)
	}
	for _, d := range dirs {
		if _, err := syscall.InotifyAddWatch(fd, d, dirEvents); err != nil {
			syscall.Close(fd)
			return
		}
	}
	w.fd, w.on = fd, true
}

// ancestors appends dir and every folder above it to dirs.
func ancestors(dir string, dirs []string) []string {
	for {
		dirs = append(dirs, dir)
		up := filepath.Dir(dir)
		if up == dir {
			return dirs
		}
		dir = up
	}
}

// changed reports whether the path may name another file now: an event was
// queued since the last call, the watch is off, or the path has not been
// checked since start. It empties the queue.
func (w *watch) changed() bool {
	if !w.on {
		return true
	}
	changed := w.pending
	w.pending = false
	for {
		n, err := syscall.Read(w.fd, w.buf[:])
		if n > 0 {
			changed = true
			continue
		}
		if err == syscall.EINTR {
			continue
		}
		if err != syscall.EAGAIN {
			// An instance that cannot be read tells nothing: stat from now on.
			w.stop()
			return true
		}
		return changed
	}
}

// stop closes the inotify instance; the watch is off until start.
func (w *watch) stop() {
	if w.on {
		syscall.Close(w.fd)
	}
	w.on = false
}
