//go:build unix

package safefile_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/otelaudit/otelaudit/internal/safefile"
)

// TestOpen: a regular file opens; a symbolic link (dangling or not), a FIFO
// and a folder are refused at once, and nothing is created through a link.
func TestOpen(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	os.Symlink(target, filepath.Join(dir, "link"))
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(dir, "folder"), 0o700)
	flag := os.O_RDWR | os.O_CREATE
	for _, tt := range []struct{ name, want string }{
		{"new", ""}, {"link", "symbolic link"}, {"fifo", "not a regular file"}, {"folder", "directory"},
	} {
		f, err := safefile.Open(filepath.Join(dir, tt.name), flag, 0o600)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
				continue
			}
			f.Close()
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v; want an error saying %q", tt.name, err, tt.want)
		}
	}
	if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the link's target was created: %v", err)
	}
}
