//go:build unix

package main

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestConfigCheckFIFO: a FIFO given as the settings file is refused at
// once (exit 2), never waited on.
func TestConfigCheckFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "settings.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFO:", err)
	}
	if code, _, errOut := runCLI("config", "check", fifo); code != 2 || !strings.Contains(errOut, "not a regular file") {
		t.Errorf("config check on a FIFO: exit %d, %q; want 2", code, errOut)
	}
}
