//go:build linux

package exporter_test

import (
	"context"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/exporter"
	"github.com/otelaudit/otelaudit/psono"
)

// partialChildEnv marks the child process of TestPartialWriteLeavesNoTornLine.
const partialChildEnv = "OTELAUDIT_PARTIAL_WRITE_CHILD"

// TestPartialWriteLeavesNoTornLine makes the kernel cut a write part way
// through a line, with a file size limit (RLIMIT_FSIZE): the write fails,
// and the file still ends at a line boundary, so once the limit is lifted
// the next line is written whole and not run into a fragment.
//
// The limit holds for a whole process and would also cut go test's own
// files (its test log), so the test runs itself again in a child process
// and the limit is set there only.
func TestPartialWriteLeavesNoTornLine(t *testing.T) {
	if os.Getenv(partialChildEnv) == "" {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestPartialWriteLeavesNoTornLine$", "-test.v")
		cmd.Env = append(os.Environ(), partialChildEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestPartialWriteLeavesNoTornLine") {
			t.Fatalf("child test: %v\n%s", err, out)
		}
		return
	}
	signal.Ignore(syscall.SIGXFSZ) // else the process is killed at the limit
	t.Cleanup(func() { signal.Reset(syscall.SIGXFSZ) })
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old) })

	path := filepath.Join(t.TempDir(), "audit.log")
	for _, d := range []exporter.Durability{exporter.Write, exporter.Sync, exporter.Buffered} {
		t.Run(d.String(), func(t *testing.T) {
			_ = os.Remove(path)
			f, err := exporter.NewFile(path, exporter.WithDurability(d), exporter.WithErrorLog(func(error) {}))
			if err != nil {
				t.Fatal(err)
			}
			rec := func(i int) []sdklog.Record {
				return []sdklog.Record{record("EVENT_SUCCESS",
					attribute.String(string(psono.ReqURL.Attr), "/n/"+strings.Repeat("x", 200)+"/"+string(rune('a'+i))))}
			}
			ctx := context.Background()
			if err := f.Export(ctx, rec(0)); err != nil {
				t.Fatal(err)
			}
			if err := f.ForceFlush(ctx); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			// Room for a third of the next line.
			lim := syscall.Rlimit{Cur: uint64(fi.Size()) + 100, Max: old.Max}
			if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
				t.Fatal(err)
			}
			err = f.Export(ctx, rec(1))
			if d == exporter.Buffered {
				err = f.ForceFlush(ctx)
			}
			if err == nil {
				t.Fatal("a write beyond the file size limit succeeded")
			}
			if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
				t.Fatal(err)
			}
			if err := f.Export(ctx, rec(2)); err != nil {
				t.Fatalf("write after the limit was lifted: %v", err)
			}
			if err := f.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
				if _, err := psono.Parse(line); err != nil {
					t.Errorf("line %d is not a whole line: %v\n%q", i+1, err, line)
				}
			}
			if n := strings.Count(string(data), "\n"); n != 2 {
				t.Errorf("audit.log has %d lines, want 2 (the line that failed is not in it):\n%s", n, data)
			}
		})
	}
}
