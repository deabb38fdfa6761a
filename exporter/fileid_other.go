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
