package exporter

import (
	"fmt"
	"os"

	"github.com/otelaudit/otelaudit/internal/safefile"
)

// openAppend opens the regular file at path for appending, creating it with
// mode when it is missing, under safefile's guarantee: never through a
// symbolic link at the last component (a dangling one is not created
// either), never blocking (a FIFO or a device at the path is refused, with
// or without a reader).
func openAppend(path string, mode os.FileMode) (*os.File, error) {
	file, err := safefile.Open(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, mode)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return file, nil
}
