//go:build !unix

package exporter

import "os"

// fileID identifies a file across renames. Where there are no inode
// numbers it holds the file's os.FileInfo, compared with os.SameFile.
type fileID struct{ fi os.FileInfo }

func idOf(fi os.FileInfo) fileID { return fileID{fi} }

// statID returns the identity of the file at path.
func statID(path string) (fileID, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return fileID{}, err
	}
	return fileID{fi}, nil
}

// same reports whether a and b identify the same file.
func (a fileID) same(b fileID) bool {
	return a.fi != nil && b.fi != nil && os.SameFile(a.fi, b.fi)
}

// handle would tell whether the open file was deleted; without link counts
// it never says so, and File relies on the identity of the file at the path
// (see File.current and File.open).
type handle struct{}

func handleOf(*os.File) handle { return handle{} }

// deleted reports false: not known here.
func (handle) deleted() bool { return false }

// keyOf returns the identity of fi as the chain file records it: none where
// there are no inode numbers.
func keyOf(os.FileInfo) string { return "" }
