package otelaudit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/log/embedded"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/internal/attremit"
)

// directLogs is the log.LoggerProvider the Auditor's middleware, Recorder
// and calls emit to. Its logger for the middleware's scope
// (instrument.ScopeName) makes the same sdklog.Record the provider's own
// logger makes (resource, scope, limits, trace and span ids, time, severity,
// event, body, attributes) and hands it to the pipeline itself, skipping
// three costs of the SDK's Logger (v1.47) that a request pays every time:
// the provider's lifecycle mutex, taken twice by Enabled and twice by Emit;
// the record's attributes added one call at a time, which grows their slice
// four times for the twelve of a request (one allocation here); Enabled's
// walk through the provider to the one processor, which is asked directly;
// and, through EmitAttributes (attremit.Emitter), the logs API's log.Record
// in between, whose attributes past the fifth are one more allocation. The
// record handed to the pipeline comes from a pool. The record starts as a copy of one the provider's logger made
// at New (a template, caught before it reaches the pipeline), so that what
// the SDK sets and offers no setter for (resource, scope, limits) is the
// provider's.
//
// Every other logger is the provider's own. So is the middleware's once
// Shutdown has begun: from then on records take the SDK's path and its
// rules for a provider that is shutting down; close waits for the records
// in flight on the direct path to reach the stages first.
type directLogs struct {
	embedded.LoggerProvider
	sdk      *sdklog.LoggerProvider
	pipeline sdklog.Processor
	template sdklog.Record // for instrument.ScopeName, without options

	mu     sync.RWMutex // held for reading by a direct emit, for writing by close
	closed atomic.Bool
}

// newDirectLogs returns the direct provider over sdk, whose one processor
// is catch (in front of pipeline).
func newDirectLogs(sdk *sdklog.LoggerProvider, catch *templateCatcher, pipeline sdklog.Processor) (*directLogs, error) {
	d := &directLogs{sdk: sdk, pipeline: pipeline}
	t, ok := catch.catch(sdk.Logger(instrument.ScopeName))
	if !ok {
		return nil, errors.New("otelaudit: the audit records' logger made no record to start from")
	}
	d.template = t
	return d, nil
}

// Logger returns the direct logger for instrument.ScopeName without
// options, and the provider's own logger for any other.
func (d *directLogs) Logger(name string, opts ...log.LoggerOption) log.Logger {
	l := d.sdk.Logger(name, opts...)
	if name != instrument.ScopeName || len(opts) > 0 {
		return l
	}
	return &directLogger{d: d, sdk: l, scope: d.template.InstrumentationScope()}
}

// close makes the direct loggers take the SDK's path from now on, and
// returns once the records in flight on the direct path reached the stages.
func (d *directLogs) close() {
	d.mu.Lock()
	d.closed.Store(true)
	d.mu.Unlock()
}

// directLogger is directLogs' logger for the middleware's scope.
var _ attremit.Emitter = (*directLogger)(nil)

type directLogger struct {
	embedded.Logger
	d     *directLogs
	sdk   log.Logger // the provider's own, after close and for records with an error
	scope instrumentation.Scope
}

// Enabled asks the pipeline (the event filter) directly.
func (l *directLogger) Enabled(ctx context.Context, p log.EnabledParameters) bool {
	if l.d.closed.Load() {
		return l.sdk.Enabled(ctx, p)
	}
	return l.d.pipeline.Enabled(ctx, sdklog.EnabledParameters{
		InstrumentationScope: l.scope, Severity: p.Severity, EventName: p.EventName})
}

// Emit makes r's sdklog.Record and hands it to the pipeline, as the SDK's
// logger would (see directLogs), in a record of a pool rather than one
// allocated each time.
func (l *directLogger) Emit(ctx context.Context, r log.Record) {
	d := l.d
	d.mu.RLock()
	if d.closed.Load() || r.Err() != nil { // the SDK derives exception attributes from an error
		d.mu.RUnlock()
		l.sdk.Emit(ctx, r)
		return
	}
	rec := recordPool.Get().(*sdklog.Record)
	*rec = d.template
	observed := r.ObservedTimestamp()
	if observed.IsZero() {
		observed = time.Now()
	}
	set(ctx, rec, r.Timestamp(), observed, r.Severity(), r.SeverityText(), r.EventName())
	rec.SetBody(r.Body())
	var buf [24]attribute.KeyValue
	attrs := buf[:0]
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		attrs = append(attrs, kv)
		return true
	})
	rec.AddAttributes(attrs...)
	d.hand(ctx, rec)
}

// EmitAttributes is Emit for a record with these fields (attremit.Emitter,
// which the middleware uses): no log.Record in between.
func (l *directLogger) EmitAttributes(ctx context.Context, t time.Time, sev log.Severity, sevText, event string, attrs []attribute.KeyValue) {
	d := l.d
	d.mu.RLock()
	if d.closed.Load() {
		d.mu.RUnlock()
		l.sdk.Emit(ctx, attremit.Record(t, sev, sevText, event, attrs))
		return
	}
	rec := recordPool.Get().(*sdklog.Record)
	*rec = d.template
	set(ctx, rec, t, t, sev, sevText, event)
	rec.AddAttributes(attrs...)
	d.hand(ctx, rec)
}

// set gives rec its fields and ctx's trace context, as the SDK's logger
// does.
func set(ctx context.Context, rec *sdklog.Record, t, observed time.Time, sev log.Severity, sevText, event string) {
	rec.SetEventName(event)
	rec.SetTimestamp(t)
	rec.SetObservedTimestamp(observed)
	rec.SetSeverity(sev)
	rec.SetSeverityText(sevText)
	sc := trace.SpanContextFromContext(ctx)
	rec.SetTraceID(sc.TraceID())
	rec.SetSpanID(sc.SpanID())
	rec.SetTraceFlags(sc.TraceFlags())
}

// hand gives rec, of recordPool, to the pipeline, then back to the pool;
// d.mu is held for reading, and released.
func (d *directLogs) hand(ctx context.Context, rec *sdklog.Record) {
	err := d.pipeline.OnEmit(ctx, rec)
	d.mu.RUnlock()
	*rec = sdklog.Record{} // let go of the attributes, the resource and the scope
	recordPool.Put(rec)
	if err != nil {
		otel.Handle(err)
	}
}

// recordPool holds the records the direct path hands the pipeline: a
// processor must not keep a record after its OnEmit returns (it clones what
// it keeps, as the SDK's contract for processors says, and as forward.Queue
// does), so the record is free again once OnEmit returned.
var recordPool = sync.Pool{New: func() any { return new(sdklog.Record) }}

// templateCatcher is the provider's one processor, in front of the
// pipeline: it passes everything on, except the one record directLogs asks
// the provider's logger to make, which it keeps as the template.
type templateCatcher struct {
	sdklog.Processor
	armed atomic.Bool
	mu    sync.Mutex
	got   *sdklog.Record
}

// templateEvent names the record the catcher keeps. It is never emitted
// otherwise, and never reaches the pipeline.
const templateEvent = "otelaudit.template"

// catch has l make a record, and returns it.
func (c *templateCatcher) catch(l log.Logger) (sdklog.Record, bool) {
	c.armed.Store(true)
	defer c.armed.Store(false)
	var r log.Record
	r.SetEventName(templateEvent)
	l.Emit(context.Background(), r)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.got == nil {
		return sdklog.Record{}, false
	}
	t := c.got.Clone()
	t.SetEventName("")
	t.SetTimestamp(time.Time{})
	t.SetObservedTimestamp(time.Time{})
	return t, true
}

// OnEmit keeps the template record while armed, and passes every other
// record on.
func (c *templateCatcher) OnEmit(ctx context.Context, r *sdklog.Record) error {
	if c.armed.Load() && r.EventName() == templateEvent {
		c.mu.Lock()
		t := r.Clone()
		c.got = &t
		c.mu.Unlock()
		return nil
	}
	return c.Processor.OnEmit(ctx, r)
}
