// Package otelaudit gives a Go HTTP service the audit log of Psono's
// enterprise server, built on OpenTelemetry: every request the service serves
// becomes one audit record, filtered by the settings' whitelist and blacklist
// and written as a Psono line to audit.log.
//
// New turns config.Settings into a ready pipeline: an OpenTelemetry
// LoggerProvider with one processor.EventFilter in front of a
// processor.Fanout to the synchronous exporter.File and, when forwarding is
// configured, the forward.Queue; and Handler, the instrument middleware
// bound to it. Shutdown flushes and closes everything.
//
// The packages underneath can be used on their own: config (settings),
// instrument (the middleware), processor (the event filter and the fan-out),
// exporter (the file exporter), forward (OTLP forwarding), receipt (the
// contract between strict mode and the file) and psono (the line format and
// the attribute mapping).
package otelaudit

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/metric"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/exporter"
	"github.com/otelaudit/otelaudit/forward"
	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/processor"
	"github.com/otelaudit/otelaudit/seal"
)

// Auditor is a configured audit pipeline. Its methods are safe for
// concurrent use.
type Auditor struct {
	provider *sdklog.LoggerProvider
	file     *exporter.File
	queue    *forward.Queue
	ownTP    *sdktrace.TracerProvider
	handler  []instrument.Option
	recorder *instrument.Recorder
}

type options struct {
	mp             metric.MeterProvider
	errorLog       func(error)
	forward        sdklog.Exporter
	forwardTimeout time.Duration
	queueOpts      []forward.QueueOption
	hostName       string
	serviceName    string
	tp             trace.TracerProvider
	handlerOpts    []instrument.Option
	fallback       io.Writer
	fallbackSet    bool
}

// An Option configures New.
type Option func(*options)

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
// forward.RetryRefused). Forwarded records always hold valid
// UTF-8, as OTLP requires: each run of invalid bytes in a string attribute
// becomes U+FFFD (audit.log keeps the exact bytes, escaped).
func WithForwardExporter(exp sdklog.Exporter) Option {
	return func(o *options) { o.forward = exp }
}

// WithForwardShutdownTimeout bounds how long Shutdown waits for the
// forwarder to deliver what is still queued (default
// forward.DefaultShutdownTimeout), the exporter's own shutdown included;
// what is left then is counted as dropped and reported.
// audit.log is complete either way.
func WithForwardShutdownTimeout(d time.Duration) Option {
	return func(o *options) { o.forwardTimeout = d }
}

// WithQueueOptions passes options to the forwarder's forward.Queue.
func WithQueueOptions(opts ...forward.QueueOption) Option {
	return func(o *options) { o.queueOpts = append(o.queueOpts, opts...) }
}

// WithMeterProvider sets the MeterProvider of the pipeline's own metrics
// (otelaudit.file.write_errors, otelaudit.forward.dropped); the default is
// the global one.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(o *options) { o.mp = mp }
}

// WithErrorLog sets the one place the pipeline reports its problems: records
// that could not be written to audit.log, records the forwarder gave up
// (both counted exactly, rate-limited, with a final report at Shutdown) and
// handlers that panicked. The default is otel.Handle.
func WithErrorLog(f func(error)) Option {
	return func(o *options) { o.errorLog = f }
}

// WithFallback sets where a record that cannot be written to audit.log goes,
// whole, after exporter.FallbackMark; the default is standard error. A nil w
// turns the fallback off (the records are still counted and reported).
func WithFallback(w io.Writer) Option {
	return func(o *options) { o.fallback, o.fallbackSet = w, true }
}

// WithHandlerOptions adds options for the instrument middleware that Handler
// returns, for example instrument.WithDefaultLogger.
func WithHandlerOptions(opts ...instrument.Option) Option {
	return func(o *options) { o.handlerOpts = append(o.handlerOpts, opts...) }
}

// New builds the audit pipeline for s. When s.Enabled is false the pipeline
// records nothing (Handler still traces requests) and no file is opened.
//
// When s.Enabled is true, records go to audit.log synchronously and, when
// forward.Configured (or WithForwardExporter is given), also to an OTLP
// exporter through a bounded forward.Queue that never blocks a request
// and never touches the file path. The whitelist and blacklist apply to
// both. The resource carries service.name (OTEL_SERVICE_NAME, else
// WithServiceName), a random service.instance.id for this process,
// host.name, the SDK's attributes and OTEL_RESOURCE_ATTRIBUTES, which
// overrides the others.
//
// With s.SealKey (LOGGING_AUDIT_SEAL_KEY) audit.log is sealed (package seal):
// signed checkpoints of its lines go to audit.log.checkpoints and, with a
// forwarder, also as AUDIT_LOG_CHECKPOINT records to the forwarder alone
// (never to audit.log; the whitelist and blacklist do not apply to them),
// and each forwarded record carries its position in the sealed file
// (psono.LogTree, psono.LogIndex; not with buffered durability). A key file
// that cannot be read, or is not a private key, is an error naming the
// setting (see config.Settings.SealKeyError).
func New(s config.Settings, opts ...Option) (*Auditor, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.hostName == "" {
		o.hostName = instrument.FQDN()
	}
	if o.forwardTimeout == 0 {
		o.forwardTimeout = forward.DefaultShutdownTimeout
	}
	if o.serviceName == "" {
		o.serviceName = "otelaudit"
	}
	a := &Auditor{}
	if o.tp == nil {
		a.ownTP = sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
		o.tp = a.ownTP
	}

	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		semconv.ServiceName(o.serviceName), semconv.ServiceInstanceID(newInstanceID()),
		semconv.HostName(o.hostName)))
	if err != nil {
		return nil, fmt.Errorf("audit resource: %w", err)
	}
	if env, err := resource.New(context.Background(), resource.WithFromEnv()); err == nil {
		if merged, err := resource.Merge(res, env); err == nil {
			res = merged
		}
	}

	// The middleware's records carry each key once by construction, so the
	// SDK's per-record duplicate check (three quarters of an Emit) is
	// skipped. The SDK's attribute limits are off (see noSDKLimits): the
	// middleware's own documented cap (instrument.WithMaxValueLength, marked
	// in the line) applies.
	lpOpts := append([]sdklog.LoggerProviderOption{sdklog.WithResource(res), sdklog.WithAllowKeyDuplication()},
		noSDKLimits()...)
	if s.Enabled {
		fileOpts := []exporter.FileOption{exporter.WithLocation(s.Time.Location()), exporter.WithDurability(s.Durability),
			exporter.WithFileMode(s.FileMode), exporter.WithDirMode(s.FolderMode)}
		queueOpts := []forward.QueueOption{forward.WithShutdownTimeout(o.forwardTimeout)}
		if o.mp != nil {
			fileOpts = append(fileOpts, exporter.WithMeterProvider(o.mp))
			queueOpts = append(queueOpts, forward.WithMeterProvider(o.mp))
		}
		if o.fallbackSet {
			fileOpts = append(fileOpts, exporter.WithFallback(o.fallback))
		}
		if s.Strict {
			fileOpts = append(fileOpts, exporter.WithStrictPermissions())
		}
		if o.errorLog != nil {
			fileOpts = append(fileOpts, exporter.WithErrorLog(o.errorLog))
			queueOpts = append(queueOpts, forward.WithErrorLog(o.errorLog))
		}
		if o.forward == nil && forward.Configured() {
			if o.forward, err = forward.NewExporter(context.Background()); err != nil {
				return nil, err
			}
		}
		sinks := []sdklog.Processor{nil} // the file, first
		if o.forward != nil {
			a.queue = forward.NewQueue(forward.ValidUTF8(forward.RetryRefused(o.forward, forward.DefaultRetryWindow)),
				append(queueOpts, o.queueOpts...)...)
			sinks = append(sinks, a.queue)
		}
		var sealer *seal.Sealer // closed by the file's Shutdown
		if s.SealKey != "" {
			if sealer, err = newSealer(s, res, o.hostName, a.queueOrNil(), o.errorLog); err != nil {
				a.shutdownQueue()
				return nil, err
			}
			fileOpts = append(fileOpts, exporter.WithSealer(sealer))
		}
		a.file, err = exporter.NewFile(s.LogPath(), fileOpts...)
		if err != nil {
			if sealer != nil {
				_ = sealer.Close()
			}
			a.shutdownQueue()
			return nil, err
		}
		sinks[0] = a.file
		filter, err := processor.NewEventFilter(processor.Fanout(sinks...),
			processor.WithWhitelist(s.Whitelist...), processor.WithBlacklist(s.Blacklist...))
		if err != nil {
			_ = a.file.Shutdown(context.Background())
			a.shutdownQueue()
			return nil, err
		}
		lpOpts = append(lpOpts, sdklog.WithProcessor(filter))
	}
	a.provider = sdklog.NewLoggerProvider(lpOpts...)

	a.handler = []instrument.Option{
		instrument.WithLoggerProvider(a.provider),
		instrument.WithHostName(o.hostName),
		instrument.WithOTelHTTPOptions(otelhttp.WithTracerProvider(o.tp)),
	}
	if o.errorLog != nil {
		a.handler = append(a.handler, instrument.WithErrorLog(o.errorLog))
	}
	if s.NumProxies > 0 {
		a.handler = append(a.handler, instrument.WithNumProxies(s.NumProxies))
	}
	if s.Enabled && s.Strict {
		a.handler = append(a.handler, instrument.WithStrict(a.file.Healthy),
			instrument.WithStrictLimits(s.StrictMaxResponse, s.StrictMaxHeld))
	}
	if h := s.TrustedIPHeaderName(); h != "" {
		a.handler = append(a.handler, instrument.WithTrustedIPHeader(h))
	}
	if h := s.TrustedIPHeaderOverwriteName(); h != "" {
		a.handler = append(a.handler, instrument.WithTrustedIPHeaderOverwrite(h))
	}
	a.handler = append(a.handler, o.handlerOpts...)
	a.recorder = instrument.NewRecorder(a.handler...)
	return a, nil
}

// noSDKLimits returns the LoggerProvider options that turn the SDK's
// attribute limits off, for every provider of audit records (the request
// records' and the checkpoints'): OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT and
// _VALUE_LENGTH_LIMIT are meant for telemetry and must never drop or cut
// anything of an audit record. An option wins over the environment: the SDK
// (v1.47, newProviderConfig) reads a variable only for a limit no option
// set.
func noSDKLimits() []sdklog.LoggerProviderOption {
	return []sdklog.LoggerProviderOption{sdklog.WithAttributeCountLimit(-1), sdklog.WithAttributeValueLengthLimit(-1)}
}

// newInstanceID returns a random UUID (version 4) for service.instance.id,
// which tells apart two processes of one service on one host.
func newInstanceID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Handler returns h wrapped in the audit middleware (see
// instrument.NewHandler).
func (a *Auditor) Handler(h http.Handler) http.Handler {
	return instrument.NewHandler(h, a.handler...)
}

// Record writes an audit event that is not an HTTP request (a background
// job, a scheduled task, an admin command) through the same pipeline as the
// requests' records: the whitelist and blacklist, audit.log and forwarding.
// Its line holds None for user_ip, req_method, req_url and status, and the
// Auditor's host name (see instrument.Recorder.Record). Called with a
// request's context it carries the request's trace and span ids. It returns
// the error of a failed audit.log write (durability write or fsync).
func (a *Auditor) Record(ctx context.Context, ev instrument.Event) error {
	return a.recorder.Record(ctx, ev)
}

// LoggerProvider returns the provider the audit records are emitted to. It
// does not de-duplicate attribute keys (sdklog.WithAllowKeyDuplication):
// code that emits its own records to it must give each key once.
func (a *Auditor) LoggerProvider() *sdklog.LoggerProvider { return a.provider }

// ForwardDropped returns how many records the OTLP forwarder has given up
// (0 when there is no forwarder). audit.log never misses these records.
func (a *Auditor) ForwardDropped() int64 {
	if a.queue == nil {
		return 0
	}
	return a.queue.Dropped()
}

// Reopen reopens audit.log at its path, for log rotation: call it after the
// file was moved away (logrotate's create mode, on SIGHUP). It does nothing
// when audit logging is off.
func (a *Auditor) Reopen() error {
	if a.file == nil {
		return nil
	}
	return a.file.Reopen()
}

// Shutdown writes every record emitted so far to audit.log and closes it,
// then gives the forwarder what is left of ctx (at most its shutdown
// timeout, see WithForwardShutdownTimeout) to deliver what it still holds,
// and closes the pipeline. Records emitted after Shutdown are dropped, so
// shut the HTTP server down first.
//
// Writing audit.log is never skipped, not even when ctx is already done: an
// http.Server.Shutdown that used up a shared deadline must not cost the
// records of the requests it drained. What the forwarder could not deliver
// is counted (ForwardDropped) and reported.
func (a *Auditor) Shutdown(ctx context.Context) error {
	var err error
	if a.file != nil {
		err = a.file.Shutdown(context.WithoutCancel(ctx))
	}
	if a.queue != nil {
		err = errors.Join(err, a.queue.Shutdown(ctx))
	}
	// The processors are shut down already; this stops the provider.
	err = errors.Join(err, a.provider.Shutdown(context.WithoutCancel(ctx)))
	if a.ownTP != nil {
		err = errors.Join(err, a.ownTP.Shutdown(context.WithoutCancel(ctx)))
	}
	return err
}
