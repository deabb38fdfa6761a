//go:build !unix

package exporter

import (
	"fmt"
	"os"
)

// openAppend opens the regular file at path for appending, creating it with
// mode when it is missing. Anything at the path but a regular file is
// refused.
func openAppend(path string, mode os.FileMode) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("audit log %s is not a regular file (%s)", path, fi.Mode().Type())
	}
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, mode)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	if err := regular(file); err != nil {
		file.Close()
		return nil, err
	}
	return file, nil
}

// openRead opens the file at path for reading.
func openRead(path string) (*os.File, error) { return os.Open(path) }
