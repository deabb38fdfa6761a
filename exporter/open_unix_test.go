//go:build unix

package exporter_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelaudit/otelaudit/exporter"
	"github.com/otelaudit/otelaudit/receipt"
)

// TestOpenOnlyRegularFiles puts something other than a regular file at the
// audit log's path, at start and after the File is running: a symbolic link
// to another file, a dangling link, a FIFO (with no reader: opening it for
// writing would block without O_NONBLOCK). NewFile refuses each; a running
// File never writes through it, never blocks, and its record goes whole to
// the fallback, counted and in the Receipt.
func TestOpenOnlyRegularFiles(t *testing.T) {
	for _, tc := range []struct {
		name  string
		plant func(t *testing.T, path, victim string)
	}{
		{"symlink", func(t *testing.T, path, victim string) { mustOK(t, os.Symlink(victim, path)) }},
		{"dangling symlink", func(t *testing.T, path, victim string) {
			mustOK(t, os.Symlink(filepath.Join(filepath.Dir(victim), "nothing"), path))
		}},
		{"fifo", func(t *testing.T, path, _ string) { mustOK(t, syscall.Mkfifo(path, 0o600)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "audit.log")
			victim := filepath.Join(dir, "root-only")
			mustOK(t, os.WriteFile(victim, []byte("secret\n"), 0o600))

			// At start: refused.
			tc.plant(t, path, victim)
			if _, err := exporter.NewFile(path); err == nil {
				t.Fatal("NewFile through a planted path succeeded")
			}
			mustOK(t, os.Remove(path))

			// While running: audit.log is replaced.
			var fallback bytes.Buffer
			var reports []error
			f, err := exporter.NewFile(path, exporter.WithFallback(&fallback),
				exporter.WithErrorLog(func(err error) { reports = append(reports, err) }))
			if err != nil {
				t.Fatal(err)
			}
			mustOK(t, os.Remove(path))
			tc.plant(t, path, victim)
			r := record("PLANTED_SUCCESS", attribute.String("url.path", "/x"))
			ctx, rc := receipt.NewContext(context.Background())
			done := make(chan struct{})
			go func() { _ = f.OnEmit(ctx, &r); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("OnEmit blocked on the planted path")
			}
			if _, err := rc.Written(); err == nil {
				t.Error("the Receipt says written")
			}
			if data, _ := os.ReadFile(victim); string(data) != "secret\n" {
				t.Errorf("the link's target was written to: %q", data)
			}
			if _, err := os.Stat(filepath.Join(dir, "nothing")); err == nil {
				t.Error("a dangling link's target was created")
			}
			if got := fallback.String(); !strings.HasPrefix(got, exporter.FallbackMark+path+": ") || !strings.Contains(got, "event=PLANTED_SUCCESS") {
				t.Errorf("fallback got %q, want the whole line after the mark", got)
			}
			if len(reports) != 1 {
				t.Errorf("%d reports, want 1: %v", len(reports), reports)
			}
			mustOK(t, os.Remove(path))
			_ = f.Shutdown(context.Background())
		})
	}
}

// TestPermissionsWarning: a folder that others may write to gets a warning,
// and is refused with WithStrictPermissions.
func TestPermissionsWarning(t *testing.T) {
	dir := t.TempDir()
	mustOK(t, os.Chmod(dir, 0o777))
	path := filepath.Join(dir, "audit.log")
	var warnings []error
	f, err := exporter.NewFile(path, exporter.WithErrorLog(func(err error) { warnings = append(warnings, err) }))
	if err != nil {
		t.Fatal(err)
	}
	_ = f.Shutdown(context.Background())
	if len(warnings) != 1 || !strings.Contains(warnings[0].Error(), "writable by group or others") {
		t.Errorf("warnings = %v, want one about the folder's mode", warnings)
	}
	if _, err := exporter.NewFile(path, exporter.WithStrictPermissions()); err == nil || !strings.Contains(err.Error(), "chmod go-w") {
		t.Errorf("NewFile with strict permissions = %v, want a refusal", err)
	}
	mustOK(t, os.Chmod(dir, 0o700))
	if f, err := exporter.NewFile(path, exporter.WithStrictPermissions()); err != nil {
		t.Errorf("NewFile in a private folder: %v", err)
	} else {
		_ = f.Shutdown(context.Background())
	}
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
