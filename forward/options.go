package forward

import (
	"time"

	"go.opentelemetry.io/otel/metric"
)

// The defaults of a Queue. Every option of this package takes a value below
// one (zero or negative) to mean its default, as the OpenTelemetry SDK's
// options do: no option turns a bound off or panics.
const (
	// DefaultShutdownTimeout bounds how long Queue.Shutdown spends
	// delivering what is still queued and shutting the exporter down.
	DefaultShutdownTimeout = 5 * time.Second
	// DefaultQueueSize is how many records may wait for export.
	DefaultQueueSize = 8192
	// DefaultMaxBatch is how many records one export carries at most.
	DefaultMaxBatch = 512
	// DefaultExportInterval is how long a record may wait for a batch to
	// fill.
	DefaultExportInterval = time.Second
	// DefaultReportInterval is the least time between two reports of
	// dropped records.
	DefaultReportInterval = 10 * time.Second
)

// A QueueOption configures a Queue.
type QueueOption func(*queueConfig)

type queueConfig struct {
	size, maxBatch int
	interval       time.Duration
	shutdown       time.Duration
	mp             metric.MeterProvider
	errorLog       func(error)
	reportEvery    time.Duration
}

// WithQueueSize sets how many records may wait for export (below one:
// DefaultQueueSize).
func WithQueueSize(n int) QueueOption {
	return func(c *queueConfig) { c.size = orDefault(n, DefaultQueueSize) }
}

// WithMaxBatch sets how many records one export carries at most (below
// one: DefaultMaxBatch).
func WithMaxBatch(n int) QueueOption {
	return func(c *queueConfig) { c.maxBatch = orDefault(n, DefaultMaxBatch) }
}

// WithExportInterval sets how long a record may wait for a batch to fill
// before it is exported (below one: DefaultExportInterval).
func WithExportInterval(d time.Duration) QueueOption {
	return func(c *queueConfig) { c.interval = orDefault(d, DefaultExportInterval) }
}

// WithShutdownTimeout bounds how long Shutdown spends in all, exporting what
// is still queued and then shutting the exporter down (default
// DefaultShutdownTimeout), whatever the exporter's own retry policy and
// whatever the context given to Shutdown; records left then are counted as
// dropped. Below one: DefaultShutdownTimeout.
func WithShutdownTimeout(d time.Duration) QueueOption {
	return func(c *queueConfig) { c.shutdown = orDefault(d, DefaultShutdownTimeout) }
}

// WithMeterProvider sets the MeterProvider of the dropped-records counter;
// the default is the global one.
func WithMeterProvider(mp metric.MeterProvider) QueueOption {
	return func(c *queueConfig) { c.mp = mp }
}

// WithErrorLog sets where dropped records are reported: the first drop at
// once, then at most one report per interval with the exact count since the
// previous one, and at Shutdown what is left. The default is otel.Handle.
func WithErrorLog(f func(error)) QueueOption {
	return func(c *queueConfig) { c.errorLog = f }
}

// WithReportInterval sets the least time between two reports of dropped
// records (below one: DefaultReportInterval).
func WithReportInterval(d time.Duration) QueueOption {
	return func(c *queueConfig) { c.reportEvery = orDefault(d, DefaultReportInterval) }
}

// orDefault returns v, or def when v is below one.
func orDefault[T int | time.Duration](v, def T) T {
	if v < 1 {
		return def
	}
	return v
}
