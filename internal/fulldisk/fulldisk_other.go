//go:build !linux

package fulldisk

import "testing"

// Disk is a mounted tmpfs; there is none on this system.
type Disk struct{ Dir string }

// New skips the test: mounting a tmpfs needs Linux.
func New(t testing.TB) *Disk {
	t.Helper()
	t.Skip("fulldisk: a tmpfs to fill up needs Linux")
	return nil
}

// Fill does nothing here.
func (d *Disk) Fill(testing.TB) {}

// Free does nothing here.
func (d *Disk) Free(testing.TB) {}
