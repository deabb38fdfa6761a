//go:build unix

package exporter_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/otelaudit/otelaudit/exporter"
)

// TestNoticesPathChanges checks, for each way the path of audit.log can
// come to name another file (or none), that the next record is written to
// the path: the watch that replaces the stat before every write on Linux
// (see watch) must notice each of them, and the changes that leave the
// path's file as it was must not lose a line either.
func TestNoticesPathChanges(t *testing.T) {
	for _, c := range []struct {
		name string
		// change changes the tree under root, where audit.log is
		// root/logs/audit.log (root/logs a symbolic link to root/a).
		change func(t *testing.T, root string)
		// lines expected at the path after the third record
		want int
	}{
		{"nothing", func(*testing.T, string) {}, 3},
		{"chmod", func(t *testing.T, root string) { must(t, os.Chmod(filepath.Join(root, "a", "audit.log"), 0o640)) }, 3},
		{"hard link", func(t *testing.T, root string) {
			must(t, os.Link(filepath.Join(root, "a", "audit.log"), filepath.Join(root, "a", "link")))
		}, 3},
		{"other file in the folder deleted", func(t *testing.T, root string) {
			must(t, os.WriteFile(filepath.Join(root, "a", "other"), nil, 0o600))
			must(t, os.Remove(filepath.Join(root, "a", "other")))
		}, 3},
		{"deleted", func(t *testing.T, root string) { must(t, os.Remove(filepath.Join(root, "a", "audit.log"))) }, 1},
		{"moved away (logrotate)", func(t *testing.T, root string) {
			must(t, os.Rename(filepath.Join(root, "a", "audit.log"), filepath.Join(root, "a", "audit.log.1")))
		}, 1},
		{"replaced by rename", func(t *testing.T, root string) {
			must(t, os.WriteFile(filepath.Join(root, "a", "new"), []byte("x\n"), 0o600))
			must(t, os.Rename(filepath.Join(root, "a", "new"), filepath.Join(root, "a", "audit.log")))
		}, 2},
		{"folder moved away", func(t *testing.T, root string) {
			must(t, os.Rename(filepath.Join(root, "a"), filepath.Join(root, "old")))
			must(t, os.Mkdir(filepath.Join(root, "a"), 0o700))
		}, 1},
		{"link re-pointed", func(t *testing.T, root string) {
			must(t, os.Mkdir(filepath.Join(root, "b"), 0o700))
			must(t, os.Symlink("b", filepath.Join(root, "new")))
			must(t, os.Rename(filepath.Join(root, "new"), filepath.Join(root, "logs")))
		}, 1},
		{"grandparent moved away", func(t *testing.T, root string) {
			must(t, os.Rename(root, root+".old"))
			must(t, os.MkdirAll(filepath.Join(root, "a"), 0o700))
			must(t, os.Symlink("a", filepath.Join(root, "logs")))
		}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "root")
			must(t, os.MkdirAll(filepath.Join(root, "a"), 0o700))
			must(t, os.Symlink("a", filepath.Join(root, "logs")))
			path := filepath.Join(root, "logs", "audit.log")
			f, err := exporter.NewFile(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Shutdown(context.Background())
			r := record("A")
			for i := range 3 { // a few writes, so that the watch is in place
				if i == 2 {
					c.change(t, root)
				}
				must(t, f.OnEmit(context.Background(), &r))
			}
			if n := lines(t, path); n != c.want {
				t.Fatalf("%d lines at the path, want %d", n, c.want)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
