package processor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// Queue is an sdklog.Processor that hands records to an exporter in the
// background, through a bounded queue, for paths that must never slow a
// request down, such as OTLP forwarding to a collector.
//
// OnEmit never blocks: when the queue is full the record is given up. Every
// record Queue gives up — queue full, export failed, or still queued when
// Shutdown's time ran out — is counted in the metric
// otelaudit.forward.dropped (unit {record}, attribute reason) and reported by
// a warning at most once per WithWarnInterval, never silently lost. Dropped
// returns the same count.
//
// Queue shares nothing with other processors: a slow or unreachable exporter
// behind it cannot delay or block the file exporter.
type Queue struct {
	exporter    sdklog.Exporter
	ch          chan sdklog.Record
	maxBatch    int
	interval    time.Duration
	shutdownMax time.Duration
	retryFor    time.Duration
	warn        func(msg string, args ...any)
	warnEvery   time.Duration
	dropCounter metric.Int64Counter

	dropped    atomic.Int64
	lastWarned atomic.Int64 // unix nanoseconds
	unwarned   atomic.Int64

	full     chan struct{} // signalled when a batch's worth is queued
	flushReq chan chan error
	stop     chan struct{}
	done     chan struct{}
	closing  sync.Once
	mu       sync.RWMutex // held for reading by OnEmit, for writing by Shutdown
	closed   bool
	exportMu sync.Mutex // serialises exports: worker vs. Shutdown's final drain
	cancel   context.CancelFunc
	ctx      context.Context
}

var _ sdklog.Processor = (*Queue)(nil)

type queueConfig struct {
	size, maxBatch int
	interval       time.Duration
	shutdown       time.Duration
	retryFor       time.Duration
	mp             metric.MeterProvider
	warn           func(msg string, args ...any)
	warnEvery      time.Duration
}

// A QueueOption configures a Queue.
type QueueOption func(*queueConfig)

// WithQueueSize sets how many records may wait for export (default 8192).
func WithQueueSize(n int) QueueOption { return func(c *queueConfig) { c.size = max(n, 1) } }

// WithMaxBatch sets how many records one export carries at most (default 512).
func WithMaxBatch(n int) QueueOption { return func(c *queueConfig) { c.maxBatch = max(n, 1) } }

// WithExportInterval sets how long a record may wait for a batch to fill
// before it is exported (default 1s).
func WithExportInterval(d time.Duration) QueueOption {
	return func(c *queueConfig) { c.interval = d }
}

// WithShutdownTimeout bounds how long Shutdown spends exporting what is still
// queued (default 5s), whatever the exporter's own retry policy; records left
// then are counted as dropped.
func WithShutdownTimeout(d time.Duration) QueueOption {
	return func(c *queueConfig) { c.shutdown = d }
}

// WithRetryWindow sets how long an export that reached no receiver (the
// connection was refused: the collector is down or restarting) is tried
// again before its records are counted as dropped (default 30s; 0 turns
// retrying off). Meanwhile new records wait in the queue, and those that do
// not fit are dropped and counted; Shutdown ends the retrying. Other export
// errors are not retried here: the exporter has its own retry policy for
// them, and sending again after a timeout could deliver a record twice.
func WithRetryWindow(d time.Duration) QueueOption {
	return func(c *queueConfig) { c.retryFor = max(d, 0) }
}

// WithMeterProvider sets the MeterProvider of the dropped-records counter;
// the default is the global one.
func WithMeterProvider(mp metric.MeterProvider) QueueOption {
	return func(c *queueConfig) { c.mp = mp }
}

// WithWarnFunc sets the function that reports dropped records (default: the
// OpenTelemetry error handler, otel.Handle).
func WithWarnFunc(f func(msg string, args ...any)) QueueOption {
	return func(c *queueConfig) { c.warn = f }
}

// WithWarnInterval sets the least time between two warnings (default 10s).
func WithWarnInterval(d time.Duration) QueueOption {
	return func(c *queueConfig) { c.warnEvery = d }
}

// NewQueue returns a Queue exporting to exporter and starts its worker.
func NewQueue(exporter sdklog.Exporter, opts ...QueueOption) *Queue {
	c := queueConfig{size: 8192, maxBatch: 512, interval: time.Second, shutdown: 5 * time.Second,
		retryFor: 30 * time.Second, warnEvery: 10 * time.Second}
	for _, o := range opts {
		o(&c)
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	if c.warn == nil {
		c.warn = func(msg string, args ...any) { otel.Handle(fmt.Errorf(msg, args...)) }
	}
	q := &Queue{
		exporter:    exporter,
		ch:          make(chan sdklog.Record, c.size),
		maxBatch:    c.maxBatch,
		interval:    c.interval,
		shutdownMax: c.shutdown,
		retryFor:    c.retryFor,
		warn:        c.warn,
		warnEvery:   c.warnEvery,
		full:        make(chan struct{}, 1),
		flushReq:    make(chan chan error),
		stop:        make(chan struct{}),
		done:        make(chan struct{}),
	}
	q.ctx, q.cancel = context.WithCancel(context.Background())
	var err error
	q.dropCounter, err = c.mp.Meter("github.com/otelaudit/otelaudit/processor").Int64Counter(
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

func (q *Queue) drop(n int, reason string) {
	if n <= 0 {
		return
	}
	q.dropped.Add(int64(n))
	if q.dropCounter != nil {
		q.dropCounter.Add(context.Background(), int64(n), metric.WithAttributes(reasonAttr(reason)))
	}
	q.unwarned.Add(int64(n))
	now := time.Now().UnixNano()
	last := q.lastWarned.Load()
	if now-last >= int64(q.warnEvery) && q.lastWarned.CompareAndSwap(last, now) {
		q.warn("otelaudit: forwarding gave up %d audit record(s) (latest reason: %s; %d in all); audit.log is not affected",
			q.unwarned.Swap(0), reason, q.dropped.Load())
	}
}

// Enabled reports whether the exporter might take records; Queue itself
// takes every record until it is shut down.
func (q *Queue) Enabled(context.Context, sdklog.EnabledParameters) bool {
	q.mu.RLock()
	defer q.mu.RUnlock()
	return !q.closed
}

// OnEmit queues a copy of r without blocking, or counts it as dropped when
// the queue is full or shut down.
func (q *Queue) OnEmit(_ context.Context, r *sdklog.Record) error {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		q.drop(1, "shutdown")
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
		q.drop(1, "queue_full")
	}
	return nil
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

// drainInto moves what is queued into batch, exporting full batches.
func (q *Queue) drainInto(batch []sdklog.Record) []sdklog.Record {
	for {
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

// export sends batch and returns it emptied. A failed export counts the
// batch as dropped, unless the failure shows that nothing was sent (see
// notSent): then the batch is sent again, with growing pauses, for up to
// the retry window.
func (q *Queue) export(batch []sdklog.Record) []sdklog.Record {
	if len(batch) == 0 {
		return batch
	}
	err := q.exportOnce(batch)
	if err != nil && notSent(err) && q.retryFor > 0 {
		deadline := time.Now().Add(q.retryFor)
		pause := 100 * time.Millisecond
		for err != nil && notSent(err) && time.Now().Add(pause).Before(deadline) {
			t := time.NewTimer(pause)
			select {
			case <-t.C:
			case <-q.ctx.Done():
				t.Stop()
			}
			if q.ctx.Err() != nil {
				break
			}
			err = q.exportOnce(batch)
			pause = min(2*pause, 5*time.Second)
		}
	}
	if err != nil {
		reason := "export_failed"
		if q.ctx.Err() != nil {
			reason = "shutdown"
		}
		q.drop(len(batch), reason)
	}
	clear(batch)
	return batch[:0]
}

func (q *Queue) exportOnce(batch []sdklog.Record) error {
	q.exportMu.Lock()
	defer q.exportMu.Unlock()
	return q.exporter.Export(q.ctx, batch)
}

// notSent reports whether err shows that an export reached no receiver at
// all: the connection was refused, so nothing was sent and sending again
// cannot deliver a record twice. The OTLP/HTTP exporter gives up on a
// refused connection at once (it retries only answers such as 503), which
// would otherwise lose every batch exported while a collector restarts.
func notSent(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED)
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

// Shutdown stops taking records, exports what is queued within the shutdown
// timeout (or until ctx is done, if sooner), counts what is left as dropped,
// and shuts the exporter down.
func (q *Queue) Shutdown(ctx context.Context) error {
	var err error
	q.closing.Do(func() {
		q.mu.Lock()
		q.closed = true
		q.mu.Unlock()

		ctx, cancel := context.WithTimeout(ctx, q.shutdownMax)
		defer cancel()
		go func() {
			<-ctx.Done()
			q.cancel() // aborts an export stuck in retries
		}()
		close(q.stop)
		select {
		case <-q.done:
		case <-ctx.Done():
			<-q.done // the canceled export returns promptly
		}
		q.drop(len(q.ch), "shutdown")
		sctx, scancel := context.WithTimeout(context.Background(), time.Second)
		defer scancel()
		if serr := q.exporter.Shutdown(sctx); serr != nil && !errors.Is(serr, context.DeadlineExceeded) {
			err = serr
		}
		q.cancel()
	})
	return err
}

func reasonAttr(reason string) attribute.KeyValue { return attribute.String("reason", reason) }
