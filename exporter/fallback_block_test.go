//go:build unix

package exporter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/internal/fulldisk"
	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/sdklogtest"
)

// An unwritable makes audit.log unwritable, for real, and writable again.
type unwritable struct {
	name string
	// setup returns the audit log's path, before it is made unwritable.
	setup func(t *testing.T) (path string, block, unblock func())
}

var unwritables = []unwritable{
	{"full disk", func(t *testing.T) (string, func(), func()) {
		disk := fulldisk.New(t) // a tmpfs; skips unless root
		return filepath.Join(disk.Dir, "audit.log"), func() { disk.Fill(t) }, func() { disk.Free(t) }
	}},
	{"folder replaced by a file", func(t *testing.T) (string, func(), func()) {
		dir := filepath.Join(t.TempDir(), "logs")
		return filepath.Join(dir, "audit.log"), func() {
				mustInternal(t, os.RemoveAll(dir))
				mustInternal(t, os.WriteFile(dir, nil, 0o600)) // the folder cannot be created again
			}, func() {
				mustInternal(t, os.Remove(dir))
			}
	}},
}

// reportLog is an error log a test can read while a File reports.
type reportLog struct {
	mu      sync.Mutex
	reports []string
}

func (l *reportLog) log(err error) {
	l.mu.Lock()
	l.reports = append(l.reports, err.Error())
	l.mu.Unlock()
}

// matching returns the reports matching re, with the count each begins with.
func (l *reportLog) matching(t *testing.T, re string) (reports []string, total int) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.reports {
		if regexp.MustCompile(re).MatchString(r) {
			var n int
			if _, err := fmt.Sscanf(r, "otelaudit: %d ", &n); err != nil {
				t.Fatalf("report %q has no count", r)
			}
			reports = append(reports, r)
			total += n
		}
	}
	return reports, total
}

// TestFallbackNeverBlocks: audit.log cannot be written (a full tmpfs, or its
// folder replaced by a file) and the fallback writer is a pipe nobody reads,
// as standard error can be. The pipe fills up after a few hundred records;
// from then on no record may wait for it: every OnEmit returns at once, the
// records the pipe cannot take are dropped, counted exactly and reported
// once, audit.log is written again as soon as it can be, and Shutdown
// returns (with the count in all). Every record ends up in exactly one of
// audit.log, the pipe (read once Shutdown has returned) and the count.
func TestFallbackNeverBlocks(t *testing.T) {
	for _, u := range unwritables {
		for _, d := range []Durability{Write, Sync, Buffered} {
			t.Run(u.name+"/"+d.String(), func(t *testing.T) {
				path, block, unblock := u.setup(t)
				r, w, err := os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
				var errs reportLog
				f, err := NewFile(path, WithDurability(d), WithFallback(w), WithErrorLog(errs.log))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = f.Shutdown(context.Background()) })
				t.Cleanup(func() { w.Close() })
				t.Cleanup(func() { r.Close() }) // first: a writer blocked on the pipe gets EPIPE
				block()

				// 4000 records of about 330 bytes: the pipe takes 64 KiB,
				// the fallback's queue 256 KiB, Buffered holds 1 MiB.
				const goroutines, each = 4, 1000
				var slowest atomic.Int64
				done := make(chan struct{})
				go func() {
					defer close(done)
					var wg sync.WaitGroup
					for g := range goroutines {
						wg.Go(func() {
							for i := range each {
								rec := numberedRecord(fmt.Sprintf("%d-%d", g, i))
								start := time.Now()
								_ = f.OnEmit(context.Background(), &rec)
								for d := int64(time.Since(start)); ; {
									if s := slowest.Load(); d <= s || slowest.CompareAndSwap(s, d) {
										break
									}
								}
							}
						})
					}
					wg.Wait()
					if d == Buffered {
						_ = f.ForceFlush(context.Background()) // fails, to the fallback
					}
				}()
				select {
				case <-done:
				case <-time.After(20 * time.Second):
					t.Fatal("OnEmit blocked on the fallback writer, a pipe nobody reads")
				}
				if s := time.Duration(slowest.Load()); s > 5*time.Second {
					t.Errorf("the slowest OnEmit took %v", s)
				}
				dropped := f.FallbackDropped()
				if dropped == 0 {
					t.Fatal("no record dropped although the pipe cannot take them all")
				}
				if said, _ := errs.matching(t, "dropped, not written to the fallback writer either: it has not taken"); len(said) != 1 {
					t.Errorf("the drop was reported %d times, want once: %q", len(said), said)
				}

				// audit.log can be written again: the next record goes there,
				// although the pipe is still full.
				unblock()
				returned := make(chan struct{})
				go func() {
					defer close(returned)
					rec := numberedRecord("after")
					_ = f.OnEmit(context.Background(), &rec)
					_ = f.ForceFlush(context.Background())
				}()
				select {
				case <-returned:
				case <-time.After(10 * time.Second):
					t.Fatal("OnEmit blocked after audit.log could be written again")
				}
				data, err := os.ReadFile(path)
				if err != nil || !strings.Contains(string(data), "kwarg_n=after\n") {
					t.Fatalf("the record after recovery is not in audit.log (%v):\n%s", err, data)
				}

				// Shutdown (SIGTERM) returns while the pipe is still full.
				shut := make(chan error, 1)
				go func() { shut <- f.Shutdown(context.Background()) }()
				select {
				case <-shut:
				case <-time.After(10 * time.Second):
					t.Fatal("Shutdown blocked on the fallback writer")
				}
				dropped = f.FallbackDropped()
				final, total := errs.matching(t, "dropped in all")
				if len(final) != 1 || int64(total) != dropped {
					t.Errorf("Shutdown reported %q, want one report of the %d dropped", final, dropped)
				}

				// Now read the pipe, and wait for the fallback's goroutine
				// to end (it may be in a write the reader unblocks).
				read := make(chan string, 1)
				go func() { b, _ := io.ReadAll(r); read <- string(b) }()
				if left, inflight := f.fb.drain(time.Now().Add(30*time.Second), func([]byte) int { return 1 }); left+inflight != 0 {
					t.Fatal("the fallback writer's goroutine did not end")
				}
				w.Close()
				fallback := <-read

				seen := map[string]string{}
				for _, l := range strings.Split(strings.TrimSuffix(fallback, "\n"), "\n") {
					rest, ok := strings.CutPrefix(l, FallbackMark+path+": ")
					if _, err := psono.Parse(rest); !ok || err != nil {
						t.Fatalf("fallback line %q is not a marked whole line (%v)", l, err)
					}
					seen[rest[strings.Index(rest, "kwarg_n="):]] = "fallback"
				}
				inFallback := len(seen)
				data, err = os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				inFile := 0
				for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
					id := l[strings.Index(l, "kwarg_n="):]
					if seen[id] != "" {
						t.Errorf("record %s is in audit.log and in the %s", id, seen[id])
					}
					seen[id] = "audit.log"
					inFile++
				}
				const n = goroutines*each + 1
				if got := int64(inFallback+inFile) + dropped; got != n {
					t.Errorf("%d records in the fallback + %d in audit.log + %d dropped = %d, want %d", inFallback, inFile, dropped, got, n)
				}
				if _, lost := errs.matching(t, `could not be written to \S+ \(\d+ in all\)`); int64(lost) != int64(inFallback)+dropped {
					t.Errorf("%d records reported lost, want the %d in the fallback and the %d dropped", lost, inFallback, dropped)
				}
				t.Logf("%d records: %d in audit.log, %d in the fallback, %d dropped", n, inFile, inFallback, dropped)
			})
		}
	}
}

// TestFallbackWriterFails: a fallback writer whose writes fail drops the
// records, counted and reported once, and Shutdown reports the count in all.
func TestFallbackWriterFails(t *testing.T) {
	u := unwritables[1] // works without root
	path, block, _ := u.setup(t)
	var errs reportLog
	var writes atomic.Int64
	f, err := NewFile(path, WithFallback(failingWriter{&writes}), WithErrorLog(errs.log))
	if err != nil {
		t.Fatal(err)
	}
	block()
	for i := range 10 {
		rec := numberedRecord(strconv.Itoa(i))
		_ = f.OnEmit(context.Background(), &rec)
	}
	if err := f.Shutdown(context.Background()); err != nil {
		t.Log(err)
	}
	if got := f.FallbackDropped(); got != 10 || writes.Load() == 0 {
		t.Errorf("FallbackDropped = %d after %d failed writes, want 10", got, writes.Load())
	}
	if said, n := errs.matching(t, "the fallback writer failed: broken pipe"); len(said) != 1 || n == 0 {
		t.Errorf("the drop was reported %q, want once", said)
	}
	if final, n := errs.matching(t, "dropped in all"); len(final) != 1 || n != 10 {
		t.Errorf("Shutdown reported %q, want the 10 dropped", final)
	}
}

type failingWriter struct{ writes *atomic.Int64 }

func (w failingWriter) Write([]byte) (int, error) {
	w.writes.Add(1)
	return 0, errors.New("broken pipe")
}

// numberedRecord returns a record whose line ends in kwarg_n=id, about 330
// bytes long.
func numberedRecord(id string) sdklog.Record {
	var r log.Record
	r.SetTimestamp(time.Date(2020, 5, 24, 7, 55, 41, 0, time.UTC))
	r.SetEventName("FALLBACK_SUCCESS")
	r.AddAttributes(
		attribute.String(string(psono.ReqURL.Attr), "/datastore/"+strings.Repeat("x", 200)+"/"),
		attribute.String(string(psono.KwargAttr("n")), id))
	rec := &sdklogtest.Recorder{}
	sdklog.NewLoggerProvider(sdklog.WithProcessor(rec)).Logger("test").Emit(context.Background(), r)
	return rec.Records()[0]
}

func mustInternal(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
