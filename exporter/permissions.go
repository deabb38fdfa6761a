package exporter

import (
	"fmt"
	"os"
	"path/filepath"
)

// checkPermissions returns an error naming the audit log's folder or file
// when the group or others may write to it: another account could then
// replace audit.log or rewrite its lines.
func checkPermissions(path string) error {
	for _, p := range []string{filepath.Dir(path), path} {
		fi, err := os.Stat(p)
		if err != nil {
			continue // a missing file is created with the configured mode
		}
		if perm := fi.Mode().Perm(); perm&0o022 != 0 {
			return fmt.Errorf("audit log %s: %s has mode %#o, writable by group or others: another account could replace or rewrite the audit log; chmod go-w %s", path, p, perm, p)
		}
	}
	return nil
}
