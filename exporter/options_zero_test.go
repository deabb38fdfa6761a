package exporter_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/otelaudit/otelaudit/exporter"
)

// TestZeroOptions: zero option values mean the defaults (a mode of 0 once
// made an audit.log nobody could read, a nil location panicked at the first
// line); none panics.
func TestZeroOptions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	f, err := exporter.NewFile(filepath.Join(dir, "audit.log"), exporter.WithFileMode(0), exporter.WithDirMode(0),
		exporter.WithLocation(nil), exporter.WithReportInterval(0), exporter.WithReportInterval(-time.Second))
	if err != nil {
		t.Fatal(err)
	}
	r := record("READ_INFO_SUCCESS")
	if err := f.OnEmit(context.Background(), &r); err != nil {
		t.Fatal(err)
	}
	if err := f.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{filepath.Join(dir, "audit.log"): exporter.DefaultFileMode, dir: exporter.DefaultDirMode} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %04o, want the default %04o", path, got, want)
		}
	}
}
