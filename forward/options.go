package forward

import (
	"time"

	"go.opentelemetry.io/otel/metric"
)

// DefaultShutdownTimeout bounds how long Queue.Shutdown spends delivering
// what is still queued and shutting the exporter down.
const DefaultShutdownTimeout = 5 * time.Second

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

// WithQueueSize sets how many records may wait for export (default 8192).
func WithQueueSize(n int) QueueOption { return func(c *queueConfig) { c.size = max(n, 1) } }

// WithMaxBatch sets how many records one export carries at most (default 512).
func WithMaxBatch(n int) QueueOption { return func(c *queueConfig) { c.maxBatch = max(n, 1) } }

// WithExportInterval sets how long a record may wait for a batch to fill
// before it is exported (default 1s).
func WithExportInterval(d time.Duration) QueueOption {
	return func(c *queueConfig) { c.interval = d }
}

// WithShutdownTimeout bounds how long Shutdown spends in all, exporting what
// is still queued and then shutting the exporter down (default
// DefaultShutdownTimeout), whatever the exporter's own retry policy and
// whatever the context given to Shutdown; records left then are counted as
// dropped.
func WithShutdownTimeout(d time.Duration) QueueOption {
	return func(c *queueConfig) { c.shutdown = d }
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
// records (default 10s).
func WithReportInterval(d time.Duration) QueueOption {
	return func(c *queueConfig) { c.reportEvery = d }
}
