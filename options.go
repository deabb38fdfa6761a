package otelaudit

import (
	"io"
	"time"

	"go.opentelemetry.io/otel/metric"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/trace"
)

// An Option configures New.
type Option func(*options)

type options struct {
	mp             metric.MeterProvider
	errorLog       func(error)
	forward        sdklog.Exporter
	forwardTimeout time.Duration
	queueSize      int
	hostName       string
	serviceName    string
	tp             trace.TracerProvider
	fallback       io.Writer
	fallbackSet    bool
	defaultLogger  string
	maxValueLength int
	stages         []stage // replaces the default stages; for tests
}

// WithHostName sets the host name the records carry; the default is
// instrument.FQDN, the name Psono writes.
func WithHostName(name string) Option {
	return func(o *options) { o.hostName = name }
}

// WithServiceName sets the service.name of the records' resource when
// OTEL_SERVICE_NAME does not; the default is "otelaudit".
func WithServiceName(name string) Option {
	return func(o *options) { o.serviceName = name }
}

// WithTracerProvider sets the TracerProvider of the HTTP spans whose ids the
// records carry. By default the Auditor makes one that samples nothing: each
// request still gets valid trace and span ids for correlation, and no span is
// recorded or exported.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) { o.tp = tp }
}

// WithForwardExporter forwards the records (those the whitelist and
// blacklist allow) to exp through a forward.Queue, instead of the OTLP
// exporter the environment describes. A refused connection is retried (see
// forward.RetryRefused). Forwarded records always hold valid UTF-8, as OTLP
// requires: each run of invalid bytes in a string attribute becomes U+FFFD
// (audit.log keeps the exact bytes, escaped).
func WithForwardExporter(exp sdklog.Exporter) Option {
	return func(o *options) { o.forward = exp }
}

// WithForwardShutdownTimeout bounds how long Shutdown waits for the
// forwarder to deliver what is still queued (below one means the default,
// forward.DefaultShutdownTimeout), the exporter's own shutdown included;
// what is left then is counted as dropped and reported. audit.log is
// complete either way.
func WithForwardShutdownTimeout(d time.Duration) Option {
	return func(o *options) { o.forwardTimeout = d }
}

// WithForwardQueueSize sets how many records the forwarder holds while the
// collector is slow or away (below one means the default of forward.Queue);
// beyond it, records are dropped from the forwarder, counted and reported,
// never from audit.log. Checkpoint records are never dropped for room.
func WithForwardQueueSize(n int) Option {
	return func(o *options) { o.queueSize = n }
}

// WithMeterProvider sets the MeterProvider of the pipeline's own metrics
// (otelaudit.file.write_errors, otelaudit.forward.dropped); the default is
// the global one.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(o *options) { o.mp = mp }
}

// WithErrorLog sets the one place the pipeline reports its problems: records
// that could not be written to audit.log, records the forwarder gave up
// (both counted exactly, rate-limited, with a final report at Shutdown),
// handlers that panicked, and what the sealer finds at startup. The default
// is otel.Handle.
func WithErrorLog(f func(error)) Option {
	return func(o *options) { o.errorLog = f }
}

// WithFallback sets where a record that cannot be written to audit.log goes,
// whole, after exporter.FallbackMark; the default is standard error. A nil w
// turns the fallback off (the records are still counted and reported).
func WithFallback(w io.Writer) Option {
	return func(o *options) { o.fallback, o.fallbackSet = w, true }
}

// WithDefaultLogger sets the logger field of records whose handler names
// none (see instrument.WithDefaultLogger).
func WithDefaultLogger(name string) Option {
	return func(o *options) { o.defaultLogger = name }
}

// WithMaxValueLength sets the longest value a record holds, in bytes (see
// instrument.WithMaxValueLength; below one means the default,
// instrument.DefaultMaxValueLength).
func WithMaxValueLength(n int) Option {
	return func(o *options) { o.maxValueLength = n }
}
