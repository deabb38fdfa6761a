//go:build !unix

package safefile

import (
	"fmt"
	"os"
)

func open(path string, flag int, perm os.FileMode) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s); only a regular file is written", path, fi.Mode().Type())
	}
	return os.OpenFile(path, flag, perm)
}
