package spool

import (
	"os"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/otelaudit/otelaudit/durability"
)

// The defaults of a Spool. As in package forward, an option given a value
// below one means its default: no option turns a bound off.
const (
	// DefaultMaxBytes is the disk budget of the records waiting in a spool
	// (their stored size; the file itself is larger by bbolt's pages and
	// free list, and its write-ahead log holds a few MiB at most besides):
	// 256 MiB, about half a million typical audit records.
	DefaultMaxBytes int64 = 256 << 20
	// DefaultMaxBatch is how many records one export carries at most.
	DefaultMaxBatch = 512
	// DefaultMinRetry and DefaultMaxRetry bound the pause between two
	// attempts of a failed export; the pause doubles from the first to the
	// second. There is no limit on the attempts.
	DefaultMinRetry = 100 * time.Millisecond
	DefaultMaxRetry = 30 * time.Second
	// DefaultShutdownTimeout bounds how long Shutdown keeps sending. What
	// is not sent by then stays in the spool for the next start.
	DefaultShutdownTimeout = 5 * time.Second
	// DefaultReportInterval is the least time between two reports (error
	// log and OnDrop) of records dropped for the budget, and between two
	// reports of failing exports.
	DefaultReportInterval = 10 * time.Second
	// DefaultOpenTimeout is how long Open waits for the lock of a spool
	// another process holds.
	DefaultOpenTimeout = 5 * time.Second
)

// An Option configures Open.
type Option func(*config)

type config struct {
	maxBytes    int64
	maxBatch    int
	minRetry    time.Duration
	maxRetry    time.Duration
	shutdown    time.Duration
	reportEvery time.Duration
	openTimeout time.Duration
	durability  durability.Mode
	origin      string
	host        string
	fileMode    os.FileMode
	errorLog    func(error)
	onDrop      func(Drop)
	mp          metric.MeterProvider
}

// WithMaxBytes sets the disk budget (below one: DefaultMaxBytes). When
// adding records would exceed it, the oldest records not yet sent are
// dropped (checkpoint records are kept), counted, and named by the
// AUDIT_RECORDS_DROPPED record sent first when delivery resumes.
func WithMaxBytes(n int64) Option {
	return func(c *config) { c.maxBytes = orDefault(n, DefaultMaxBytes) }
}

// WithMaxBatch sets how many records one export carries at most (below
// one: DefaultMaxBatch).
func WithMaxBatch(n int) Option {
	return func(c *config) { c.maxBatch = orDefault(n, DefaultMaxBatch) }
}

// WithRetry sets the first and the longest pause between two attempts of a
// failed export (below one: DefaultMinRetry, DefaultMaxRetry).
func WithRetry(first, longest time.Duration) Option {
	return func(c *config) {
		c.minRetry = orDefault(first, DefaultMinRetry)
		c.maxRetry = max(orDefault(longest, DefaultMaxRetry), c.minRetry)
	}
}

// WithShutdownTimeout bounds how long Shutdown keeps sending (below one:
// DefaultShutdownTimeout). Nothing is lost when it runs out: what is left
// is sent after the next Open.
func WithShutdownTimeout(d time.Duration) Option {
	return func(c *config) { c.shutdown = orDefault(d, DefaultShutdownTimeout) }
}

// WithReportInterval sets the least time between two reports (below one:
// DefaultReportInterval).
func WithReportInterval(d time.Duration) Option {
	return func(c *config) { c.reportEvery = orDefault(d, DefaultReportInterval) }
}

// WithOpenTimeout sets how long Open waits for a spool another process has
// open (below one: DefaultOpenTimeout).
func WithOpenTimeout(d time.Duration) Option {
	return func(c *config) { c.openTimeout = orDefault(d, DefaultOpenTimeout) }
}

// WithDurability sets when OnEmit returns, as LOGGING_AUDIT_DURABILITY does
// for audit.log (the default is durability.Write):
//
//   - durability.Sync: once the record is written to the spool's
//     write-ahead log and fsynced (concurrent records share one write and
//     one fsync); the folds into the bbolt file are fsynced too;
//   - durability.Write: once it is written to the write-ahead log without
//     fsync: a crash of the process loses nothing, a crash of the machine
//     can lose the last records (and bbolt does not promise a consistent
//     file after a power loss without fsync);
//   - durability.Buffered: at once; the record is written in the
//     background, so a crash of the process can lose the last records.
func WithDurability(m durability.Mode) Option {
	return func(c *config) { c.durability = m }
}

// WithOrigin sets the stream the records come from (Origin): the sealer's
// log name, by default host name and audit.log's path (seal.DefaultLogName).
// Every record sent carries it.
func WithOrigin(origin string) Option {
	return func(c *config) { c.origin = origin }
}

// WithHostName sets the psono.Hostname of the AUDIT_RECORDS_DROPPED records.
func WithHostName(host string) Option {
	return func(c *config) { c.host = host }
}

// WithFileMode sets the permissions of a spool file Open creates (default
// 0o600).
func WithFileMode(m os.FileMode) Option {
	return func(c *config) { c.fileMode = m }
}

// WithErrorLog sets where the spool reports its problems: failing exports
// (rate-limited, with the number of attempts), records dropped for the
// budget, records that could not be stored. The default is otel.Handle.
func WithErrorLog(f func(error)) Option {
	return func(c *config) { c.errorLog = f }
}

// WithOnDrop sets a function told about the records dropped for the
// budget, at most once per report interval, each record once (what is
// dropped too close to Shutdown goes to the error log alone; the drop
// record is sent after the next Open either way). otelaudit uses it to write the AUDIT_RECORDS_DROPPED line to
// audit.log. It is called on a goroutine of its own, never while the spool
// holds a lock, so it may emit records (to the spool too).
func WithOnDrop(f func(Drop)) Option {
	return func(c *config) { c.onDrop = f }
}

// WithMeterProvider sets the MeterProvider of the spool's metrics
// (otelaudit.spool.dropped, otelaudit.spool.pending); the default is the
// global one.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.mp = mp }
}

func orDefault[T int | int64 | time.Duration](v, def T) T {
	if v < 1 {
		return def
	}
	return v
}
