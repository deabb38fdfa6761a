package forward_test

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/otelaudit/otelaudit/forward"
	"github.com/otelaudit/otelaudit/internal/metrictest"
	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/sdklogtest"
)

// gatedExporter blocks every export until release is closed (or the
// export's context ends); started receives a value when an export begins.
func gatedExporter(started chan struct{}, release chan struct{}) *sdklogtest.Recorder {
	return &sdklogtest.Recorder{Hook: func(ctx context.Context, _ []sdklog.Record) error {
		select {
		case started <- struct{}{}:
		default:
		}
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}
}

// checkpointRecord returns an AUDIT_LOG_CHECKPOINT record numbered i (its
// body), emitted in the checkpoints' scope as the sealer's records are.
func checkpointRecord(i int) *sdklog.Record {
	var got sdklog.Record
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(capture{&got}))
	var r log.Record
	r.SetEventName(psono.CheckpointEvent)
	r.SetBody(attribute.IntValue(i))
	lp.Logger(psono.CheckpointScope).Emit(context.Background(), r)
	return &got
}

// capture keeps a copy of the last record emitted.
type capture struct{ r *sdklog.Record }

func (capture) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }

func (c capture) OnEmit(_ context.Context, r *sdklog.Record) error { *c.r = r.Clone(); return nil }
func (capture) Shutdown(context.Context) error                     { return nil }
func (capture) ForceFlush(context.Context) error                   { return nil }

func requestRecord() *sdklog.Record {
	var r sdklog.Record
	r.SetEventName("READ_INFO_SUCCESS")
	return &r
}

func checkpointNumber(r *sdklog.Record) int64 {
	if r.Body().Type() != attribute.INT64 {
		return -1
	}
	return r.Body().AsInt64()
}

// TestQueueKeepsCheckpoints fills the queue of a blocked exporter with
// request records, then emits checkpoint records among more request
// records: no checkpoint is given up, each is exported exactly once when
// the exporter unblocks, ahead of the request records still queued, and
// the drop count (Dropped and the metric) counts request records only.
func TestQueueKeepsCheckpoints(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	started, release := make(chan struct{}, 1), make(chan struct{})
	exp := gatedExporter(started, release)
	const size, checkpoints = 10, 25 // more checkpoints than the queue holds
	q := forward.NewQueue(exp, forward.WithQueueSize(size), forward.WithMaxBatch(1),
		forward.WithExportInterval(time.Hour), forward.WithMeterProvider(mp), forward.WithErrorLog(func(error) {}))
	ctx := context.Background()
	if err := q.OnEmit(ctx, requestRecord()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started: // the worker is blocked exporting the first record
	case <-time.After(10 * time.Second):
		t.Fatal("the worker did not start exporting")
	}
	for range 2 * size { // size queued, size dropped
		if err := q.OnEmit(ctx, requestRecord()); err != nil {
			t.Fatal(err)
		}
	}
	for i := range checkpoints {
		if err := q.OnEmit(ctx, checkpointRecord(i)); err != nil {
			t.Fatal(err)
		}
		if err := q.OnEmit(ctx, requestRecord()); err != nil { // dropped
			t.Fatal(err)
		}
	}
	const requestsDropped = size + checkpoints
	if got := q.Dropped(); got != requestsDropped {
		t.Errorf("Dropped = %d with the queue full, want %d (the request records alone)", got, requestsDropped)
	}

	close(release)
	flushCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := q.ForceFlush(flushCtx); err != nil {
		t.Fatal(err)
	}
	recs := exp.Records()
	if want := 1 + size + checkpoints; len(recs) != want {
		t.Errorf("%d records exported, want %d (the first, the %d queued, the %d checkpoints)", len(recs), want, size, checkpoints)
	}
	seen := make([]int, checkpoints)
	for i := range recs {
		r := &recs[i]
		if r.EventName() != psono.CheckpointEvent {
			continue
		}
		if n := checkpointNumber(r); n < 0 || n >= checkpoints {
			t.Errorf("exported checkpoint numbered %d", n)
		} else {
			seen[n]++
		}
		// The worker sends the checkpoints first: right after the record
		// it was blocked on, before the request records still queued.
		if i < 1 || i > checkpoints {
			t.Errorf("checkpoint exported at %d, want it among the first after the blocked record", i)
		}
	}
	for n, c := range seen {
		if c != 1 {
			t.Errorf("checkpoint %d exported %d times, want once", n, c)
		}
	}

	if err := q.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got := q.Dropped(); got != requestsDropped {
		t.Errorf("Dropped = %d after Shutdown, want %d", got, requestsDropped)
	}
	if got := metrictest.Sum(t, reader, "otelaudit.forward.dropped"); got != requestsDropped {
		t.Errorf("metric otelaudit.forward.dropped = %d, want %d", got, requestsDropped)
	}
}

// TestQueueCountsCheckpointsLostAtShutdown: checkpoint records still
// waiting when Shutdown's time runs out (the exporter never answers) are
// given up like any other record, and counted.
func TestQueueCountsCheckpointsLostAtShutdown(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	started := make(chan struct{}, 1)
	q := forward.NewQueue(stuckExporter(started), forward.WithQueueSize(2), forward.WithMaxBatch(1),
		forward.WithExportInterval(time.Hour), forward.WithShutdownTimeout(100*time.Millisecond),
		forward.WithMeterProvider(mp), forward.WithErrorLog(func(error) {}))
	ctx := context.Background()
	if err := q.OnEmit(ctx, requestRecord()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the worker did not start exporting")
	}
	for i := range 5 {
		if err := q.OnEmit(ctx, checkpointRecord(i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := q.Dropped(); got != 0 {
		t.Errorf("Dropped = %d before Shutdown, want 0", got)
	}
	if err := q.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	// The record being exported and the 5 checkpoints.
	if got := q.Dropped(); got != 6 {
		t.Errorf("Dropped = %d after Shutdown, want 6", got)
	}
	if got := metrictest.Sum(t, reader, "otelaudit.forward.dropped"); got != 6 {
		t.Errorf("metric otelaudit.forward.dropped = %d, want 6", got)
	}
}
