package exporter_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"

	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/exporter"
	"github.com/otelaudit/otelaudit/internal/fulldisk"
	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/receipt"
)

// TestGroupCommit emits records from many goroutines at once in every
// durability, through OnEmit and Export, and checks that the file then
// holds each record exactly once, as one whole line.
func TestGroupCommit(t *testing.T) {
	const goroutines, perGoroutine = 32, 200
	for _, d := range []exporter.Durability{exporter.Write, exporter.Sync, exporter.Buffered} {
		t.Run(d.String(), func(t *testing.T) {
			n := perGoroutine
			if d == exporter.Sync && testing.Short() {
				n = 20
			}
			path := filepath.Join(t.TempDir(), "audit.log")
			f, err := exporter.NewFile(path, exporter.WithDurability(d))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					for i := range n {
						r := record("E", attribute.String(string(psono.KwargAttr("id")), fmt.Sprintf("%d-%d", g, i)))
						var err error
						if i%2 == 0 {
							err = f.OnEmit(ctx, &r)
						} else {
							err = f.Export(ctx, []sdklog.Record{r})
						}
						if err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			if err := f.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}

			file, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer file.Close()
			seen := map[string]int{}
			sc := bufio.NewScanner(file)
			for sc.Scan() {
				l, err := psono.Parse(sc.Text())
				if err != nil {
					t.Fatalf("torn or malformed line %q: %v", sc.Text(), err)
				}
				id := ""
				for _, p := range l.Pairs {
					if p.Key == "kwarg_id" {
						id = p.Value
					}
				}
				seen[id]++
			}
			if err := sc.Err(); err != nil {
				t.Fatal(err)
			}
			if len(seen) != goroutines*n {
				t.Errorf("%d distinct records in the file, want %d", len(seen), goroutines*n)
			}
			for id, c := range seen {
				if c != 1 {
					t.Errorf("record %s written %d times", id, c)
				}
			}
		})
	}
}

// TestGroupCommitFailure checks that every concurrent caller of a failing
// write learns of the failure, through its Receipt.
func TestGroupCommitFailure(t *testing.T) {
	for _, d := range []exporter.Durability{exporter.Write, exporter.Sync} {
		t.Run(d.String(), func(t *testing.T) {
			disk := fulldisk.New(t)
			f, err := exporter.NewFile(filepath.Join(disk.Dir, "audit.log"), exporter.WithDurability(d),
				exporter.WithErrorLog(func(error) {}), exporter.WithFallback(io.Discard))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Shutdown(context.Background())
			disk.Fill(t)
			var wg sync.WaitGroup
			var mu sync.Mutex
			failed := 0
			for range 16 {
				wg.Go(func() {
					r := record("E")
					for range 10 {
						ctx, rc := receipt.NewContext(context.Background())
						_ = f.OnEmit(ctx, &r)
						if _, err := rc.Written(); err != nil {
							mu.Lock()
							failed++
							mu.Unlock()
						}
					}
				})
			}
			wg.Wait()
			if failed != 160 {
				t.Errorf("%d of 160 writes to a full disk reported failure, want all", failed)
			}
		})
	}
}
