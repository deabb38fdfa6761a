package processor_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelaudit/otelaudit/processor"
)

// stuckExporter blocks every export until its context ends, like an OTLP
// exporter retrying against a collector that is down.
type stuckExporter struct{ started chan struct{} }

func (s *stuckExporter) Export(ctx context.Context, _ []sdklog.Record) error {
	select {
	case s.started <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return ctx.Err()
}
func (s *stuckExporter) Shutdown(context.Context) error   { return nil }
func (s *stuckExporter) ForceFlush(context.Context) error { return nil }

type countExporter struct{ n atomic.Int64 }

func (c *countExporter) Export(_ context.Context, rs []sdklog.Record) error {
	c.n.Add(int64(len(rs)))
	return nil
}
func (c *countExporter) Shutdown(context.Context) error   { return nil }
func (c *countExporter) ForceFlush(context.Context) error { return nil }

func TestQueueDelivers(t *testing.T) {
	exp := &countExporter{}
	q := processor.NewQueue(exp, processor.WithMaxBatch(7), processor.WithExportInterval(time.Hour))
	var r sdklog.Record
	for range 100 {
		if err := q.OnEmit(context.Background(), &r); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := exp.n.Load(); got != 100 {
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
	exp := &stuckExporter{started: make(chan struct{}, 1)}
	q := processor.NewQueue(exp,
		processor.WithQueueSize(10), processor.WithMaxBatch(1),
		processor.WithShutdownTimeout(200*time.Millisecond),
		processor.WithMeterProvider(mp),
		processor.WithWarnFunc(func(msg string, args ...any) {
			mu.Lock()
			warnings = append(warnings, msg)
			mu.Unlock()
		}))
	var r sdklog.Record
	if err := q.OnEmit(context.Background(), &r); err != nil {
		t.Fatal(err)
	}
	<-exp.started // the worker is stuck exporting the first record
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
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "otelaudit.forward.dropped" {
				continue
			}
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				total += dp.Value
			}
		}
	}
	if total != 1001 {
		t.Errorf("metric otelaudit.forward.dropped = %d, want 1001", total)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(warnings) != 1 {
		t.Errorf("%d warnings, want 1 (rate-limited)", len(warnings))
	}
	if err := q.OnEmit(context.Background(), &r); err != nil || q.Dropped() != 1002 {
		t.Errorf("OnEmit after Shutdown: %v, Dropped %d", err, q.Dropped())
	}
}
