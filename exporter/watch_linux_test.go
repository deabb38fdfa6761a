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
