package forward_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/otelaudit/otelaudit/forward"
	"github.com/otelaudit/otelaudit/internal/metrictest"
	"github.com/otelaudit/otelaudit/sdklogtest"
)

// stuckExporter blocks every export until its context ends, like an OTLP
// exporter retrying against a collector that is down; started receives a
// value when an export begins.
func stuckExporter(started chan struct{}) *sdklogtest.Recorder {
	return &sdklogtest.Recorder{Hook: func(ctx context.Context, _ []sdklog.Record) error {
		select {
		case started <- struct{}{}:
		default:
		}
		<-ctx.Done()
		return ctx.Err()
	}}
}

func TestQueueDelivers(t *testing.T) {
	exp := &sdklogtest.Recorder{}
	q := forward.NewQueue(exp, forward.WithMaxBatch(7), forward.WithExportInterval(time.Hour))
	var r sdklog.Record
	for range 100 {
		if err := q.OnEmit(context.Background(), &r); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := exp.Len(); got != 100 {
		t.Errorf("after ForceFlush exported %d, want 100", got)
	}
	if err := q.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if q.Dropped() != 0 {
		t.Errorf("Dropped = %d", q.Dropped())
	}
}

// TestQueueNeverBlocks fills the queue of a stuck exporter: OnEmit must
// return at once, every record given up must be counted (metric, warning,
// Dropped) and Shutdown must end within its timeout.
func TestQueueNeverBlocks(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	var mu sync.Mutex
	var warnings []string
	started := make(chan struct{}, 1)
	exp := stuckExporter(started)
	q := forward.NewQueue(exp,
		forward.WithQueueSize(10), forward.WithMaxBatch(1),
		forward.WithShutdownTimeout(200*time.Millisecond),
		forward.WithMeterProvider(mp),
		forward.WithErrorLog(func(err error) {
			mu.Lock()
			warnings = append(warnings, err.Error())
			mu.Unlock()
		}))
	var r sdklog.Record
	if err := q.OnEmit(context.Background(), &r); err != nil {
		t.Fatal(err)
	}
	<-started // the worker is stuck exporting the first record
	for range 1000 {
		if err := q.OnEmit(context.Background(), &r); err != nil {
			t.Fatal(err)
		}
	}
	if got := q.Dropped(); got != 1000-10 {
		t.Errorf("Dropped = %d while stuck, want %d", got, 1000-10)
	}
	start := time.Now()
	if err := q.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Shutdown took %v with a 200ms timeout", d)
	}
	if got := q.Dropped(); got != 1001 {
		t.Errorf("Dropped = %d after shutdown, want all 1001", got)
	}
	total := metrictest.Sum(t, reader, "otelaudit.forward.dropped")
	if total != 1001 {
		t.Errorf("metric otelaudit.forward.dropped = %d, want 1001", total)
	}
	mu.Lock()
	defer mu.Unlock()
	// Rate-limited: the first drop is reported at once, the rest in one
	// final report at Shutdown; together they give the exact count.
	if len(warnings) != 2 {
		t.Errorf("%d warnings, want 2 (the first drop, then the rest at shutdown): %q", len(warnings), warnings)
	}
	reported := 0
	for _, w := range warnings {
		var n int
		if _, err := fmt.Sscanf(w, "otelaudit: %d ", &n); err != nil {
			t.Fatalf("warning %q does not start with a count: %v", w, err)
		}
		reported += n
	}
	if reported != 1001 {
		t.Errorf("warnings report %d dropped records in all, want 1001: %q", reported, warnings)
	}
	if err := q.OnEmit(context.Background(), &r); err != nil || q.Dropped() != 1002 {
		t.Errorf("OnEmit after Shutdown: %v, Dropped %d", err, q.Dropped())
	}
}

// TestQueueRetriesRefusedConnection forwards with the real OTLP/HTTP
// exporter to a port where no collector listens yet, then starts one there:
// the refused export is sent again and arrives, nothing is dropped. (The
// exporter alone gives up on a refused connection at once.)
func TestQueueRetriesRefusedConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // refused until the collector below starts

	exp, err := otlploghttp.New(context.Background(), otlploghttp.WithEndpoint(addr), otlploghttp.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	// Start the collector only once the exporter has seen the refusal.
	seen := &errorSignal{Exporter: exp, failed: make(chan error, 1)}
	q := forward.NewQueue(forward.RetryRefused(seen, forward.DefaultRetryWindow),
		forward.WithExportInterval(time.Hour), forward.WithErrorLog(func(error) {}))
	var r sdklog.Record
	for range 10 {
		if err := q.OnEmit(context.Background(), &r); err != nil {
			t.Fatal(err)
		}
	}
	flushed := make(chan error, 1)
	go func() { flushed <- q.ForceFlush(context.Background()) }()
	t.Logf("first export: %v", <-seen.failed)

	var requests atomic.Int64
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen again on %s: %v", addr, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/logs" {
			requests.Add(1)
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
	})}
	go srv.Serve(ln)
	defer srv.Close()

	if err := <-flushed; err != nil {
		t.Fatalf("ForceFlush: %v", err)
	}
	if requests.Load() == 0 {
		t.Error("the collector got no export")
	}
	if q.Dropped() != 0 {
		t.Errorf("Dropped = %d, want 0: the refused export should have been sent again", q.Dropped())
	}
	if err := q.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// errorSignal passes exports on to the real exporter and sends the first
// error it returns on failed.
type errorSignal struct {
	sdklog.Exporter
	failed chan error
}

func (e *errorSignal) Export(ctx context.Context, rs []sdklog.Record) error {
	err := e.Exporter.Export(ctx, rs)
	if err != nil {
		select {
		case e.failed <- err:
		default:
		}
	}
	return err
}

// refused fails an export as a dial to a closed port does.
func refused(context.Context, []sdklog.Record) error {
	return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
}

// TestQueueRetryWindow: a refused export is tried again within the retry
// window only, then its records are counted as dropped; with the window 0 it
// is tried once.
func TestQueueRetryWindow(t *testing.T) {
	for _, tc := range []struct {
		window   time.Duration
		minCalls int64
	}{
		{0, 1},
		{700 * time.Millisecond, 3}, // tries at 0, 0.1s, 0.3s
	} {
		t.Run(tc.window.String(), func(t *testing.T) {
			exp := &sdklogtest.Recorder{Hook: refused}
			q := forward.NewQueue(forward.RetryRefused(exp, tc.window), forward.WithExportInterval(time.Hour), forward.WithErrorLog(func(error) {}))
			var r sdklog.Record
			for range 5 {
				_ = q.OnEmit(context.Background(), &r)
			}
			if err := q.ForceFlush(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := q.Dropped(); got != 5 {
				t.Errorf("Dropped = %d, want 5", got)
			}
			calls := int64(exp.Calls())
			if calls < tc.minCalls || (tc.window == 0 && calls != 1) {
				t.Errorf("%d export attempts, want at least %d (exactly 1 without a window)", calls, tc.minCalls)
			}
			_ = q.Shutdown(context.Background())
		})
	}
}
