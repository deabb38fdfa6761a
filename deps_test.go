package otelaudit_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/exporter"
	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/spool"
)

// TestConfigDeps: reading settings pulls in neither the OpenTelemetry SDK,
// otelhttp, the middleware nor the processors.
func TestConfigDeps(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", "./config").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"go.opentelemetry.io/otel/sdk", "otelhttp", "otelaudit/instrument", "otelaudit/processor", "otelaudit/exporter"} {
			if strings.Contains(dep, banned) {
				t.Errorf("config depends on %s", dep)
			}
		}
	}
}

// TestConfigDefaults: the settings' defaults are the ones the file exporter
// and the middleware apply, written once more in config only to keep its
// imports small.
func TestConfigDefaults(t *testing.T) {
	if config.DefaultFileMode != exporter.DefaultFileMode || config.DefaultFolderMode != exporter.DefaultDirMode ||
		config.DefaultStrictMaxResponse != instrument.DefaultStrictMaxResponse || config.DefaultStrictMaxHeld != instrument.DefaultStrictMaxHeld ||
		config.DefaultForwardSpoolMax != spool.DefaultMaxBytes {
		t.Fatal("config's defaults differ from the exporter's or the middleware's")
	}
}
