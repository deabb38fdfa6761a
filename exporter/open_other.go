//go:build !unix

package exporter

import "os"

// openRead opens the file at path for reading.
func openRead(path string) (*os.File, error) { return os.Open(path) }
