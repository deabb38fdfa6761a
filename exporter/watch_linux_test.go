package exporter

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestWatchOn checks that on a local file system the inotify watch replaces
// the stat before each write (so that TestNoticesPathChanges tests the
// watch, not the stat), and that it reports an event once.
func TestWatchOn(t *testing.T) {
	dir := t.TempDir()
	var sfs syscall.Statfs_t
	if err := syscall.Statfs(dir, &sfs); err != nil || !localFS[int64(sfs.Type)] {
		t.Skipf("%s is not on a file system the watch trusts (statfs type %#x)", dir, sfs.Type)
	}
	path := filepath.Join(dir, "audit.log")
	f, err := NewFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Shutdown(context.Background())
	if !f.watch.on {
		t.Fatal("watch off after NewFile")
	}
	if !f.watch.changed() {
		t.Fatal("the first write after opening must check the path")
	}
	if f.watch.changed() {
		t.Fatal("changed without an event")
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if !f.watch.changed() {
		t.Fatal("chmod not seen")
	}
	if f.watch.changed() {
		t.Fatal("an event seen twice")
	}
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if !f.watch.changed() {
		t.Fatal("rename not seen")
	}
}

// TestWatchSeesMounts: a change of the mount table, anywhere, is an event
// of the watch (a mount over the audit log's folder is no inotify event),
// reported once; the path check it causes tells whether it matters.
func TestWatchSeesMounts(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	f, err := NewFile(filepath.Join(t.TempDir(), "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Shutdown(context.Background())
	if !f.watch.on {
		t.Skip("the watch is off here")
	}
	f.watch.changed() // the first check after opening
	if f.watch.changed() {
		t.Fatal("changed without an event")
	}
	elsewhere := t.TempDir()
	if err := syscall.Mount("tmpfs", elsewhere, "tmpfs", 0, "size=64k"); err != nil {
		t.Fatal(err)
	}
	mounted := true
	defer func() {
		if mounted {
			_ = syscall.Unmount(elsewhere, syscall.MNT_DETACH)
		}
	}()
	if !f.watch.changed() {
		t.Fatal("mount not seen")
	}
	if f.watch.changed() {
		t.Fatal("a mount seen twice")
	}
	if err := syscall.Unmount(elsewhere, 0); err != nil {
		t.Fatal(err)
	}
	mounted = false
	if !f.watch.changed() {
		t.Fatal("unmount not seen")
	}
}
