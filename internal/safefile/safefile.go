// Package safefile opens the files otelaudit writes beside audit.log
// (audit.log itself, its checkpoints, the forwarding spool, the chain file)
// with one guarantee: a regular file only, never through a symbolic link at
// the last component (a dangling one is not created either), and never
// blocking (a FIFO or device at the path is refused at once). An attacker
// who can write to the folder can then neither redirect the writes
// elsewhere nor hang the service.
package safefile

import (
	"fmt"
	"os"
)

// Open opens path with flag and perm (as os.OpenFile) under the package's
// guarantee. The error names the path and what is there instead.
func Open(path string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := open(path, flag, perm)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file (%s); only a regular file is written", path, fi.Mode().Type())
	}
	return f, nil
}
