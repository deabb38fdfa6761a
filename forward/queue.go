// Package forward sends audit records to an OpenTelemetry Collector (or any
// sdklog.Exporter) without ever slowing a request down or touching
// audit.log: Queue is the bounded, counting processor in front of the
// exporter; ValidUTF8 and RetryRefused are exporter decorators for what OTLP
// needs (valid UTF-8 strings, and sending again while a collector restarts);
// NewExporter and Configured read the standard OTEL_EXPORTER_OTLP_*
// environment.
//
// The usual stack, which otelaudit.New builds, is
//
//	NewQueue(ValidUTF8(RetryRefused(exp, DefaultRetryWindow)), opts...)
package forward

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/internal/report"
	"github.com/otelaudit/otelaudit/psono"
)

// ScopeName is the instrumentation scope of the Queue's metrics.
const ScopeName = "github.com/otelaudit/otelaudit/forward"

// Queue is an sdklog.Processor that hands records to an exporter in the
// background, through a bounded queue, for paths that must never slow a
// request down, such as OTLP forwarding to a collector.
//
// OnEmit never blocks: when the queue is full the record is given up, except
// a checkpoint record (event name psono.CheckpointEvent in scope
// psono.CheckpointScope, the off-host copy of
// a seal of audit.log): checkpoints wait in a lane of their own, beside the
// bounded queue, that a full queue never takes from, and the worker sends
// them first. That lane is bounded by nature rather than by a size: the
// sealer signs one checkpoint per so many lines or so much time, and the
// lane holds only those signed while one export is under way (with the OTLP
// exporters behind RetryRefused, an export ends, delivered or failed, within
// their timeout and retry window).
//
// Every record Queue gives up (queue full, export failed, or still queued
// when Shutdown's time ran out, checkpoints included) is counted in the
// metric otelaudit.forward.dropped (unit {record}, attribute reason) and
// reported through the error log with exact counts (see WithErrorLog), never
// silently lost. Dropped returns the same count.
//
// Queue shares nothing with other processors: a slow or unreachable exporter
// behind it cannot delay or block the file exporter.
type Queue struct {
	exporter    sdklog.Exporter
	ch          chan sdklog.Record
	maxBatch    int
	interval    time.Duration
	shutdownMax time.Duration
	dropCounter metric.Int64Counter
	lost        *report.Reporter
	dropped     atomic.Int64

	full     chan struct{} // signalled when a batch's worth is queued
	flushReq chan chan error
	stop     chan struct{}
	done     chan struct{}
	closing  sync.Once
	mu       sync.RWMutex // held for reading by OnEmit, for writing by Shutdown
	closed   bool
	ctx      context.Context // of every export; canceled when Shutdown's time is up
	cancel   context.CancelFunc

	keptMu sync.Mutex
	kept   []sdklog.Record // checkpoint records waiting, never given up for a full queue
	nKept  atomic.Int64    // len(kept), read by the worker without the lock
}

var _ sdklog.Processor = (*Queue)(nil)

// NewQueue returns a Queue exporting to exporter and starts its worker.
func NewQueue(exporter sdklog.Exporter, opts ...QueueOption) *Queue {
	c := queueConfig{size: DefaultQueueSize, maxBatch: DefaultMaxBatch, interval: DefaultExportInterval,
		shutdown: DefaultShutdownTimeout, reportEvery: DefaultReportInterval}
	for _, o := range opts {
		o(&c)
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	q := &Queue{
		exporter:    exporter,
		ch:          make(chan sdklog.Record, c.size),
		maxBatch:    c.maxBatch,
		interval:    c.interval,
		shutdownMax: c.shutdown,
		lost:        report.New(c.errorLog, "audit record(s) not forwarded; audit.log is not affected", c.reportEvery),
		full:        make(chan struct{}, 1),
		flushReq:    make(chan chan error),
		stop:        make(chan struct{}),
		done:        make(chan struct{}),
	}
	q.ctx, q.cancel = context.WithCancel(context.Background())
	var err error
	q.dropCounter, err = c.mp.Meter(ScopeName).Int64Counter(
		"otelaudit.forward.dropped",
		metric.WithUnit("{record}"),
		metric.WithDescription("Audit records the forwarding queue gave up: queue full, export failed, or left at shutdown."))
	if err != nil {
		otel.Handle(err)
	}
	go q.run()
	return q
}

// Dropped returns how many records the Queue has given up so far.
func (q *Queue) Dropped() int64 { return q.dropped.Load() }

// drop counts n records given up for reason (queue_full, export_failed or
// shutdown) and reports them through the Reporter.
func (q *Queue) drop(n int, reason string, cause error) {
	if n <= 0 {
		return
	}
	q.dropped.Add(int64(n))
	if q.dropCounter != nil {
		q.dropCounter.Add(context.Background(), int64(n), metric.WithAttributes(attribute.String("reason", reason)))
	}
	if cause != nil {
		cause = fmt.Errorf("%s: %w", reason, cause)
	} else {
		cause = errors.New(reason)
	}
	q.lost.Lost(n, cause)
}

// Enabled reports whether the exporter might take records; Queue itself
// takes every record until it is shut down.
func (q *Queue) Enabled(context.Context, sdklog.EnabledParameters) bool {
	q.mu.RLock()
	defer q.mu.RUnlock()
	return !q.closed
}

// OnEmit queues a copy of r without blocking, or counts it as dropped when
// the queue is full or shut down. A checkpoint record is kept whether the
// queue is full or not (see Queue).
func (q *Queue) OnEmit(_ context.Context, r *sdklog.Record) error {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		q.drop(1, "shutdown", errShutdown)
		return nil
	}
	if psono.IsCheckpoint(r.EventName(), r.InstrumentationScope().Name) {
		q.keep(r.Clone())
		return nil
	}
	select {
	case q.ch <- r.Clone():
		// The worker is woken per batch, not per record: a wake-up for
		// every request would cost the service more than the copy.
		if len(q.ch) >= q.maxBatch {
			select {
			case q.full <- struct{}{}:
			default:
			}
		}
	default:
		q.drop(1, "queue_full", nil)
	}
	return nil
}

// keep adds a checkpoint record to the lane the worker sends first; it
// goes with the next export, as a queued record does.
func (q *Queue) keep(r sdklog.Record) {
	q.keptMu.Lock()
	q.kept = append(q.kept, r)
	q.nKept.Store(int64(len(q.kept)))
	q.keptMu.Unlock()
}

// takeKept moves the checkpoint records waiting into batch, exporting full
// batches.
func (q *Queue) takeKept(batch []sdklog.Record) []sdklog.Record {
	q.keptMu.Lock()
	kept := q.kept
	q.kept = nil
	q.nKept.Store(0)
	q.keptMu.Unlock()
	for _, r := range kept {
		batch = append(batch, r)
		if len(batch) >= q.maxBatch {
			batch = q.export(batch)
		}
	}
	return batch
}

func (q *Queue) run() {
	defer close(q.done)
	batch := make([]sdklog.Record, 0, q.maxBatch)
	ticker := time.NewTicker(q.interval)
	defer ticker.Stop()
	for {
		select {
		case <-q.full:
			batch = q.drainInto(batch)
		case <-ticker.C:
			batch = q.export(q.drainInto(batch))
		case reply := <-q.flushReq:
			batch = q.drainInto(batch)
			batch = q.export(batch)
			reply <- nil
		case <-q.stop:
			q.export(q.drainInto(batch))
			return
		}
	}
}

// drainInto moves what is queued into batch, exporting full batches. The
// checkpoint records go first, and again before each further record when
// more came in while a batch was being exported.
func (q *Queue) drainInto(batch []sdklog.Record) []sdklog.Record {
	for {
		if q.nKept.Load() > 0 {
			batch = q.takeKept(batch)
		}
		select {
		case r := <-q.ch:
			batch = append(batch, r)
			if len(batch) >= q.maxBatch {
				batch = q.export(batch)
			}
		default:
			return batch
		}
	}
}

// export sends batch and returns it emptied, counting its records as
// dropped when the export failed.
func (q *Queue) export(batch []sdklog.Record) []sdklog.Record {
	if len(batch) == 0 {
		return batch
	}
	if err := q.exporter.Export(q.ctx, batch); err != nil {
		reason := "export_failed"
		if q.ctx.Err() != nil {
			reason = "shutdown"
		}
		q.drop(len(batch), reason, err)
	}
	clear(batch)
	return batch[:0]
}

// ForceFlush exports everything queued so far, waiting at most until ctx is
// done.
func (q *Queue) ForceFlush(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case q.flushReq <- reply:
	case <-q.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		if err != nil {
			return err
		}
		return q.exporter.ForceFlush(ctx)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Shutdown stops taking records, exports what is queued, shuts the exporter
// down, counts what is left as dropped and reports the drops not yet
// reported. All of it takes at most the shutdown timeout (see
// WithShutdownTimeout), or until ctx is done if sooner.
func (q *Queue) Shutdown(ctx context.Context) error {
	var err error
	q.closing.Do(func() {
		q.mu.Lock()
		q.closed = true
		q.mu.Unlock()

		ctx, cancel := context.WithTimeout(ctx, q.shutdownMax)
		defer cancel()
		stopped := make(chan struct{})
		defer close(stopped)
		go func() {
			select {
			case <-ctx.Done():
				q.cancel() // aborts an export stuck in retries
			case <-stopped:
			}
		}()
		close(q.stop)
		<-q.done // the worker exports what is queued; a canceled export returns promptly
		q.keptMu.Lock()
		left := len(q.ch) + len(q.kept)
		q.keptMu.Unlock()
		q.drop(left, "shutdown", ctx.Err())
		if serr := q.exporter.Shutdown(ctx); serr != nil && !errors.Is(serr, context.DeadlineExceeded) && !errors.Is(serr, context.Canceled) {
			err = serr
		}
		q.cancel()
		q.lost.Flush()
	})
	return err
}

var errShutdown = errors.New("the queue was shut down")
