package spool_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otelaudit/otelaudit/sdklogtest"
	"github.com/otelaudit/otelaudit/spool"
)

// TestWALRefusesLinks: a symbolic link at the write-ahead log's path
// (the spool's path and ".wal") is refused as one at the spool's own path
// is; nothing is created or written through it.
func TestWALRefusesLinks(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "elsewhere")
	path := filepath.Join(dir, "audit.spool")
	if err := os.Symlink(target, path+".wal"); err != nil {
		t.Fatal(err)
	}
	s, err := spool.Open(path, &sdklogtest.Recorder{})
	if err == nil {
		_ = s.Shutdown(t.Context())
		t.Fatal("Open with a link at the write-ahead log's path succeeded; want it refused")
	}
	if !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("Open: %v; want the link named", err)
	}
	if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the link's target was created: %v", err)
	}
}
