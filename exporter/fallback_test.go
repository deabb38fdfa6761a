package exporter_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/exporter"
	"github.com/otelaudit/otelaudit/internal/fulldisk"
)

// lockedBuffer is a fallback writer tests can read while a File writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestFallbackOnFullDisk fills a real file system under each durability:
// every record that cannot be written reaches the fallback whole and marked,
// exactly once, and the reports add up to exactly the records lost (the
// last ones at Shutdown).
func TestFallbackOnFullDisk(t *testing.T) {
	for _, d := range []exporter.Durability{exporter.Write, exporter.Sync, exporter.Buffered} {
		t.Run(d.String(), func(t *testing.T) {
			disk := fulldisk.New(t)
			path := filepath.Join(disk.Dir, "audit.log")
			fallback := &lockedBuffer{}
			var mu sync.Mutex
			var reports []string
			f, err := exporter.NewFile(path, exporter.WithDurability(d), exporter.WithFallback(fallback),
				exporter.WithErrorLog(func(err error) { mu.Lock(); reports = append(reports, err.Error()); mu.Unlock() }))
			if err != nil {
				t.Fatal(err)
			}
			disk.Fill(t)
			const n = 300
			var wg sync.WaitGroup
			for g := range 4 {
				wg.Go(func() {
					for i := range n / 4 {
						r := record("FULL_SUCCESS", attribute.String("audit.kwarg.i", fmt.Sprintf("%d-%d", g, i)))
						_ = f.OnEmit(context.Background(), &r)
					}
				})
			}
			wg.Wait()
			if err := f.Shutdown(context.Background()); err == nil && d != exporter.Buffered {
				t.Log("shutdown reported no error")
			}
			lines := strings.Split(strings.TrimSuffix(fallback.String(), "\n"), "\n")
			seen := map[string]bool{}
			for _, l := range lines {
				rest, ok := strings.CutPrefix(l, exporter.FallbackMark+path+": ")
				if !ok || !strings.Contains(rest, "event=FULL_SUCCESS") {
					t.Fatalf("fallback line %q lacks the mark or the record", l)
				}
				seen[rest[strings.Index(rest, "kwarg_i="):]] = true
			}
			if len(lines) != n || len(seen) != n {
				t.Errorf("fallback holds %d lines (%d distinct), want each of the %d records once", len(lines), len(seen), n)
			}
			total := 0
			for _, r := range reports {
				var k int
				if _, err := fmt.Sscanf(r, "otelaudit: %d ", &k); err != nil {
					t.Fatalf("report %q has no count", r)
				}
				total += k
			}
			if total != n {
				t.Errorf("reports add up to %d lost records, want %d: %q", total, n, reports)
			}
		})
	}
}

// TestFallbackOff: WithFallback(nil) turns the fallback off; the records are
// still counted.
func TestFallbackOff(t *testing.T) {
	disk := fulldisk.New(t)
	var reports int
	f, err := exporter.NewFile(filepath.Join(disk.Dir, "audit.log"), exporter.WithFallback(nil),
		exporter.WithErrorLog(func(error) { reports++ }))
	if err != nil {
		t.Fatal(err)
	}
	disk.Fill(t)
	if err := f.Export(context.Background(), []sdklog.Record{record("A")}); err == nil {
		t.Error("Export to a full disk succeeded")
	}
	_ = f.Shutdown(context.Background())
	if reports != 1 {
		t.Errorf("%d reports, want 1", reports)
	}
}
