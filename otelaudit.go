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
	"net/http"
	"slices"
	"sync/atomic"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/forward"
	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/processor"
	"github.com/otelaudit/otelaudit/psono"
)

// Auditor is a configured audit pipeline. Its methods are safe for
// concurrent use.
type Auditor struct {
	provider  *sdklog.LoggerProvider
	stages    []sdklog.Processor // built, in fan-out order
	pipeline  sdklog.Processor   // the filter in front of the stages; nil without stages
	direct    *directLogs        // what the middleware emits to; nil without stages
	ownTP     *sdktrace.TracerProvider
	handler   []instrument.Option
	recorder  *instrument.Recorder
	closed    atomic.Bool
	afterShut atomic.Int64 // records given to Record after Shutdown
	errorLog  func(error)
}

// ErrShutdown is returned by Record after Shutdown: the event was not
// recorded (and is counted and reported).
var ErrShutdown = errors.New("otelaudit: the Auditor is shut down; the event was not recorded")

// New builds the audit pipeline for s, after checking s (Settings.Validate:
// the same rules for loaded and hand-built settings). When s.Enabled is
// false the pipeline records nothing (Handler still traces requests) and no
// file is opened.
//
// When s.Enabled is true, records go to audit.log synchronously and, when
// forward.Configured (or WithForwardExporter is given), also over OTLP: by
// default through a spool.Spool in LOGGING_AUDIT_FOLDER (each record on
// disk, with audit.log's durability, before its emit returns; sent until the
// collector takes it, across outages and restarts; bounded by
// LOGGING_AUDIT_FORWARD_SPOOL_MAX), or, with LOGGING_AUDIT_FORWARD_QUEUE
// memory, through the bounded forward.Queue that never blocks a request. The whitelist and blacklist apply to
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
//
// The pipeline is one LoggerProvider whose processor passes the records
// to a processor.EventFilter in front of a processor.Fanout to the stages
// (the file, the forwarder); the middleware's records reach the filter
// directly (see directLogs). Whatever New built before an error is shut
// down again.
func New(s config.Settings, opts ...Option) (_ *Auditor, err error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	o := options{serviceName: "otelaudit", forwardTimeout: forward.DefaultShutdownTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	if o.hostName == "" {
		o.hostName = instrument.FQDN()
	}
	if o.forwardTimeout < 1 {
		o.forwardTimeout = forward.DefaultShutdownTimeout
	}
	if o.errorLog == nil {
		o.errorLog = otel.Handle
	}
	e := &env{errorLog: o.errorLog, mp: o.mp, hostName: o.hostName, resource: newResource(o),
		opts: &o, checkpoints: &checkpointEmitter{host: o.hostName}}

	var cleanup []func()
	defer func() {
		if err != nil {
			for i := len(cleanup) - 1; i >= 0; i-- {
				cleanup[i]()
			}
		}
	}()
	a := &Auditor{errorLog: o.errorLog}
	stages := o.stages
	if stages == nil {
		stages = defaultStages()
	}
	for _, st := range stages {
		p, err := st.build(s, e)
		if err != nil {
			return nil, err
		}
		if p != nil {
			a.stages = append(a.stages, p)
			cleanup = append(cleanup, func() { _ = p.Shutdown(context.Background()) })
		}
	}
	// The middleware's records carry each key once by construction, so the
	// SDK's per-record duplicate check (three quarters of an Emit) is
	// skipped. The SDK's attribute limits are off (see noSDKLimits): the
	// middleware's own documented cap (WithMaxValueLength, marked in the
	// line) applies.
	lpOpts := append([]sdklog.LoggerProviderOption{sdklog.WithResource(e.resource), sdklog.WithAllowKeyDuplication()},
		noSDKLimits()...)
	var catch *templateCatcher
	if len(a.stages) > 0 {
		filter, err := processor.NewEventFilter(processor.Fanout(a.stages...),
			processor.WithWhitelist(s.Whitelist...), processor.WithBlacklist(s.Blacklist...))
		if err != nil {
			return nil, err
		}
		a.pipeline = filter
		catch = &templateCatcher{Processor: filter}
		lpOpts = append(lpOpts, sdklog.WithProcessor(catch))
	}
	a.provider = sdklog.NewLoggerProvider(lpOpts...)
	if catch != nil {
		if a.direct, err = newDirectLogs(a.provider, catch, a.pipeline); err != nil {
			return nil, err
		}
	}
	e.provider.Store(a.provider)
	e.checkpoints.attach(a.provider.Logger(psono.CheckpointScope))
	a.handler = a.handlerOptions(s, o)
	a.recorder = instrument.NewRecorder(a.handler...)
	return a, nil
}

// handlerOptions returns the middleware's options for s.
func (a *Auditor) handlerOptions(s config.Settings, o options) []instrument.Option {
	tp := o.tp
	if tp == nil {
		a.ownTP = sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
		tp = a.ownTP
	}
	var lp log.LoggerProvider = a.provider
	if a.direct != nil {
		lp = a.direct
	}
	h := []instrument.Option{
		instrument.WithLoggerProvider(lp),
		instrument.WithHostName(o.hostName),
		instrument.WithOTelHTTPOptions(otelhttp.WithTracerProvider(tp)),
		instrument.WithErrorLog(o.errorLog),
	}
	if s.NumProxies > 0 {
		h = append(h, instrument.WithNumProxies(s.NumProxies))
	}
	if hdr := s.TrustedIPHeaderName(); hdr != "" {
		h = append(h, instrument.WithTrustedIPHeader(hdr))
	}
	if hdr := s.TrustedIPHeaderOverwriteName(); hdr != "" {
		h = append(h, instrument.WithTrustedIPHeaderOverwrite(hdr))
	}
	if o.defaultLogger != "" {
		h = append(h, instrument.WithDefaultLogger(o.defaultLogger))
	}
	if o.maxValueLength > 0 {
		h = append(h, instrument.WithMaxValueLength(o.maxValueLength))
	}
	if s.Enabled && s.Strict {
		h = append(h, instrument.WithStrict(a.healthy), instrument.WithStrictLimits(s.StrictMaxResponse, s.StrictMaxHeld))
	}
	return h
}

// healthy reports the first problem of a stage that strict mode consults.
func (a *Auditor) healthy() error {
	for _, p := range a.stages {
		if h, ok := p.(health); ok {
			if err := h.Healthy(); err != nil {
				return err
			}
		}
	}
	return nil
}

// newResource returns the records' resource (see New).
func newResource(o options) *resource.Resource {
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		semconv.ServiceName(o.serviceName), semconv.ServiceInstanceID(newInstanceID()),
		semconv.HostName(o.hostName)))
	if err != nil {
		// Only a conflict of schema URLs fails a merge; keep ours.
		res = resource.NewSchemaless(semconv.ServiceName(o.serviceName), semconv.ServiceInstanceID(newInstanceID()),
			semconv.HostName(o.hostName))
	}
	if env, err := resource.New(context.Background(), resource.WithFromEnv()); err == nil {
		if merged, err := resource.Merge(res, env); err == nil {
			res = merged
		}
	}
	return res
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

// InstrumentOptions returns the instrument options the Auditor's HTTP
// middleware is built with: its LoggerProvider, host name, client-IP
// settings (NUM_PROXIES, TRUSTED_IP_HEADER, TRUSTED_IP_HEADER_OVERWRITE),
// default logger, value limit, and strict mode with the pipeline's health
// check. Adapters for calls that are not HTTP requests (otelauditgrpc)
// build their instrument.Calls with them, so that a call's record follows
// the same settings as a request's.
func (a *Auditor) InstrumentOptions() []instrument.Option { return slices.Clone(a.handler) }

// Record writes an audit event that is not an HTTP request (a background
// job, a scheduled task, an admin command) through the same pipeline as the
// requests' records: the whitelist and blacklist, audit.log and forwarding.
// Its line holds None for user_ip, req_method, req_url and status, and the
// Auditor's host name (see instrument.Recorder.Record). Called with a
// request's context it carries the request's trace and span ids. It returns
// the error of a failed audit.log write (durability write or fsync), and
// ErrShutdown after Shutdown (the event is counted and reported).
func (a *Auditor) Record(ctx context.Context, ev instrument.Event) error {
	if a.closed.Load() {
		n := a.afterShut.Add(1)
		a.errorLog(fmt.Errorf("%w (event %q; %d after Shutdown so far)", ErrShutdown, ev.Event, n))
		return ErrShutdown
	}
	return a.recorder.Record(ctx, ev)
}

// LoggerProvider returns the provider the audit records are emitted to. It
// does not de-duplicate attribute keys (sdklog.WithAllowKeyDuplication):
// code that emits its own records to it must give each key once.
func (a *Auditor) LoggerProvider() *sdklog.LoggerProvider { return a.provider }

// ForwardDropped returns how many records the OTLP forwarder has given up
// (0 when there is no forwarder). audit.log never misses these records.
func (a *Auditor) ForwardDropped() int64 {
	var n int64
	for _, p := range a.stages {
		if d, ok := p.(dropCounter); ok {
			n += d.Dropped()
		}
	}
	return n
}

// Reopen reopens audit.log at its path, for log rotation: call it after the
// file was moved away (logrotate, on SIGHUP). It does nothing
// when audit logging is off.
func (a *Auditor) Reopen() error {
	var err error
	for _, p := range a.stages {
		if r, ok := p.(reopener); ok {
			err = errors.Join(err, r.Reopen())
		}
	}
	return err
}

// Shutdown writes every record emitted so far to audit.log and closes it
// (with its sealer's closing checkpoint), then gives the forwarder what is
// left of ctx (at most its shutdown timeout, see
// WithForwardShutdownTimeout) to deliver what it still holds, and closes the
// pipeline. Records emitted after Shutdown are dropped, so shut the HTTP
// server down first; Record returns ErrShutdown.
//
// Writing audit.log is never skipped, not even when ctx is already done: an
// http.Server.Shutdown that used up a shared deadline must not cost the
// records of the requests it drained. What the forwarder could not deliver
// is counted (ForwardDropped) and reported.
func (a *Auditor) Shutdown(ctx context.Context) error {
	a.closed.Store(true)
	if a.direct != nil {
		a.direct.close() // records in flight reach the stages before they drain
	}
	var err error
	for _, p := range a.stages {
		if d, ok := p.(drainer); ok {
			err = errors.Join(err, d.Drain())
		}
	}
	// The stages shut down in order, with ctx (the file ignores its
	// cancellation). Then the provider stops: its own Shutdown cannot be
	// given ctx, because the SDK (v1.47) gives up at once on a context that
	// is already done, without shutting anything down, and never tries
	// again; the stages it shuts down once more are shut already.
	if a.pipeline != nil {
		err = errors.Join(err, a.pipeline.Shutdown(ctx))
	}
	err = errors.Join(err, a.provider.Shutdown(context.WithoutCancel(ctx)))
	if a.ownTP != nil {
		err = errors.Join(err, a.ownTP.Shutdown(context.WithoutCancel(ctx)))
	}
	return err
}
