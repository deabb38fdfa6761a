//go:build linux

// Package fulldisk gives a test a real file system that it can fill up: a
// small tmpfs mounted under the test's temporary folder, on which every
// write fails with ENOSPC once Fill has run, until Free. It needs the
// privilege to mount (root, as in CI); without it the test is skipped with
// the reason.
package fulldisk

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Disk is a mounted tmpfs.
type Disk struct {
	// Dir is the mount point, an empty folder at first.
	Dir    string
	filler string
}

// New mounts a 4 MiB tmpfs at a new folder under t.TempDir() and
// unmounts it when the test ends.
func New(t testing.TB) *Disk {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "size=4m,mode=0700"); err != nil {
		t.Skipf("fulldisk: cannot mount a tmpfs to fill up (needs root): %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("fulldisk: unmount %s: %v", dir, err)
		}
	})
	return &Disk{Dir: dir, filler: filepath.Join(dir, ".filler")}
}

// Fill writes a filler file until the file system has no space left.
func (d *Disk) Fill(t testing.TB) {
	t.Helper()
	f, err := os.OpenFile(d.filler, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	block := make([]byte, 4096)
	for {
		if _, err := f.Write(block); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fulldisk: filling %s: %v", d.Dir, err)
			}
			break
		}
	}
	// Partial pages: write single bytes until nothing fits.
	for {
		if _, err := f.Write(block[:1]); err != nil {
			break
		}
	}
}

// Free deletes the filler: writes succeed again.
func (d *Disk) Free(t testing.TB) {
	t.Helper()
	if err := os.Remove(d.filler); err != nil {
		t.Fatal(err)
	}
}
