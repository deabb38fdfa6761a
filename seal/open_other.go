//go:build !unix

package seal

import "os"

// openNonBlock is 0 where there are no FIFOs to wait on.
const openNonBlock = 0

// fileIDOf returns "" where files have no device and inode numbers.
func fileIDOf(os.FileInfo) string { return "" }

// linked reports true where a deleted open file cannot be told.
func linked(*os.File) bool { return true }

// keyModesMatter: file modes say nothing of who can read the key here.
const keyModesMatter = false
