//go:build linux

package exporter

import (
	"path/filepath"
	"syscall"
	"unsafe"
)

// watch tells File when the path of audit.log may name another file than
// the one it has open, so that File does not stat(2) the path before every
// write. It is an inotify instance watching the open file (IN_ATTRIB: an
// unlink or a rename over it changes its link count; IN_MOVE_SELF;
// IN_DELETE_SELF) and every folder on the way to it, lexically and with
// symbolic links resolved (an entry deleted, moved away or moved in;
// the folder itself deleted or moved), and /proc/self/mountinfo, which
// signals POLLPRI when the process's mount table changes: a file system
// mounted over audit.log or a folder on its way (a tmpfs, a bind mount) or
// unmounted from there hides the file or shows another one without any
// inotify event. Both are in an epoll instance. The kernel queues the inotify
// events before the unlink(2) or rename(2) that causes them returns, and
// counts a mount table change before mount(2) or umount(2) returns, so a
// non-blocking epoll_wait(2) before each write (about half the cost of the
// stat(2) it replaces, and nothing to read when it finds nothing) sees every
// change made before the write began, as the stat did. Any event at all,
// including a queue overflow or a spurious one (a chmod, a hard link, another
// file of the folder deleted, a mount elsewhere), only makes File check the
// path with stat(2) as before: the identity it compares holds the device, so
// a file on another mount is another file.
//
// Where inotify cannot be trusted to see every change — a file system other
// than the local ones listed in localFS (NFS, FUSE and the like change behind
// the kernel's back), no inotify or epoll instance or watch left, no
// /proc/self/mountinfo to poll — the watch is off and File stats the path
// before every write.
type watch struct {
	on      bool // the instances are open with every watch in place
	fd      int  // the inotify instance
	mounts  int  // /proc/self/mountinfo
	ep      int  // the epoll instance holding fd and mounts
	pending bool // check the path at the next write whatever the instances say
	evs     [2]syscall.EpollEvent
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
// path once: the file may have been replaced, or a file system mounted over
// it, before the watches were in place.
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
	w.fd, w.mounts, w.ep = -1, -1, -1
	if !w.open(abs) {
		w.closeAll()
		return
	}
	w.on = true
}

// open opens the instances and puts every watch in place, and reports
// whether it could; the caller closes what it opened when it could not.
func (w *watch) open(abs string) bool {
	var err error
	if w.fd, err = syscall.InotifyInit1(syscall.IN_NONBLOCK | syscall.IN_CLOEXEC); err != nil {
		w.fd = -1
		return false
	}
	if _, err := syscall.InotifyAddWatch(w.fd, abs, fileEvents|syscall.IN_DONT_FOLLOW); err != nil {
		return false
	}
	dirs := ancestors(filepath.Dir(abs), nil)
	if real, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil && real != filepath.Dir(abs) {
		dirs = ancestors(real, dirs)
	}
	for _, d := range dirs {
		if _, err := syscall.InotifyAddWatch(w.fd, d, dirEvents); err != nil {
			return false
		}
	}
	// Opening the file takes the mount table's state of the moment: POLLPRI
	// signals a change after it.
	if w.mounts, err = syscall.Open("/proc/self/mountinfo", syscall.O_RDONLY|syscall.O_CLOEXEC, 0); err != nil {
		w.mounts = -1
		return false
	}
	if w.ep, err = syscall.EpollCreate1(syscall.EPOLL_CLOEXEC); err != nil {
		w.ep = -1
		return false
	}
	if syscall.EpollCtl(w.ep, syscall.EPOLL_CTL_ADD, w.fd, &syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(w.fd)}) != nil {
		return false
	}
	if syscall.EpollCtl(w.ep, syscall.EPOLL_CTL_ADD, w.mounts, &syscall.EpollEvent{Events: syscall.EPOLLPRI, Fd: int32(w.mounts)}) != nil {
		return false
	}
	return true
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
// queued since the last call, the mount table changed, the watch is off, or
// the path has not been checked since start. It empties the queue.
func (w *watch) changed() bool {
	if !w.on {
		return true
	}
	changed := w.pending
	w.pending = false
	n, err := pollNow(w.ep, w.evs[:])
	for err == syscall.EINTR {
		n, err = pollNow(w.ep, w.evs[:])
	}
	if err != nil {
		// An instance that cannot be asked tells nothing: stat from now on.
		w.stop()
		return true
	}
	for _, ev := range w.evs[:n] {
		changed = true
		if ev.Fd == int32(w.fd) && !w.drain() {
			w.stop()
			return true
		}
		// Else the mount table changed: polling the file again takes the
		// change, so it is reported once.
	}
	return changed
}

// pollNow is epoll_wait with a timeout of 0 (epoll_pwait without a signal
// mask, which every Linux architecture has): it never blocks, so it is made
// as a raw system call, without the scheduler's bookkeeping around a call
// that might.
func pollNow(ep int, evs []syscall.EpollEvent) (int, error) {
	r, _, errno := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(ep),
		uintptr(unsafe.Pointer(&evs[0])), uintptr(len(evs)), 0, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}

// drain empties the inotify queue; it reports false when the instance cannot
// be read.
func (w *watch) drain() bool {
	for {
		n, err := syscall.Read(w.fd, w.buf[:])
		if n > 0 {
			continue
		}
		if err == syscall.EINTR {
			continue
		}
		return err == syscall.EAGAIN
	}
}

// stop closes the instances; the watch is off until start.
func (w *watch) stop() {
	if w.on {
		w.closeAll()
	}
	w.on = false
}

// closeAll closes those of the instances that are open (not -1).
func (w *watch) closeAll() {
	for _, fd := range []*int{&w.ep, &w.mounts, &w.fd} {
		if *fd >= 0 {
			syscall.Close(*fd)
		}
		*fd = -1
	}
}
