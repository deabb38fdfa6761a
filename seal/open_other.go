//go:build !unix

package seal

import "os"

// openNonBlock is 0 where there are no FIFOs to wait on.
const openNonBlock = 0

// openAppendRegular opens the file at path for appending, creating it (mode
// 0600) when it is missing, and refuses anything but a regular file.
func openAppendRegular(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		if err == nil {
			err = os.ErrInvalid
		}
		return nil, err
	}
	return f, nil
}

// fileIDOf returns "" where files have no device and inode numbers.
func fileIDOf(os.FileInfo) string { return "" }

// linked reports true where a deleted open file cannot be told.
func linked(*os.File) bool { return true }

// keyModesMatter: file modes say nothing of who can read the key here.
const keyModesMatter = false
