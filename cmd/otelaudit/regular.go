package main

import (
	"fmt"
	"os"
)

// openRegular opens path for reading if it is a regular file, as
// seal.OpenLog does, for tail -f, which needs the *os.File itself (to see
// that the path names another file, and to read on as the file grows). The
// open never blocks: a FIFO, a device or a folder is refused at once.
func openRegular(path string) (*os.File, os.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openNonBlock, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s is not a regular file (%s); only audit logs are read", path, fi.Mode().Type())
	}
	return f, fi, nil
}
