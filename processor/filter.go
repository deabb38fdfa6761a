// Package processor provides the OpenTelemetry log processors that decide
// which audit records go on, and where.
//
// EventFilter enforces Psono's LOGGING_AUDIT_WHITELIST and
// LOGGING_AUDIT_BLACKLIST: it wraps the processor it guards and passes on only
// the records whose event the lists allow. Processors registered side by side
// on a LoggerProvider cannot stop one another, so every destination must sit
// behind the filter: Fanout hands each record to several processors (the file
// exporter, the forwarding queue of package forward), and one EventFilter in
// front of it guards them all.
package processor

import (
	"context"
	"fmt"

	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/psono"
)

// EventFilter is an sdklog.Processor that passes a record on to the processor
// it wraps only when the record's event name is allowed: on the whitelist (or
// the whitelist is empty) and not on the blacklist. A record without an event
// name is allowed only when the whitelist is empty. Event names are matched
// in upper case (psono.EventCode), as package instrument records them,
// so that a record another emitter names in lower case is not let through
// or dropped for its letters' case.
//
// EventFilter answers Enabled from the event name as well, so the
// instrumentation can skip building a record that would be dropped.
type EventFilter struct {
	next      sdklog.Processor
	whitelist psono.Patterns
	blacklist psono.Patterns
}

var _ sdklog.Processor = (*EventFilter)(nil)

// An Option configures an EventFilter.
type Option func(*filterConfig)

type filterConfig struct {
	whitelist, blacklist []string
}

// WithWhitelist sets the patterns of the events that are passed on; when it
// is empty (the default) every event is, except those on the blacklist.
func WithWhitelist(patterns ...string) Option {
	return func(c *filterConfig) { c.whitelist = append(c.whitelist, patterns...) }
}

// WithBlacklist sets the patterns of the events that are never passed on.
// The blacklist wins over the whitelist.
func WithBlacklist(patterns ...string) Option {
	return func(c *filterConfig) { c.blacklist = append(c.blacklist, patterns...) }
}

// NewEventFilter returns an EventFilter guarding next. It returns an error
// when a pattern is not valid (see psono.ValidatePattern).
func NewEventFilter(next sdklog.Processor, opts ...Option) (*EventFilter, error) {
	var c filterConfig
	for _, o := range opts {
		o(&c)
	}
	w, err := psono.NewPatterns(c.whitelist)
	if err != nil {
		return nil, fmt.Errorf("audit whitelist: %w", err)
	}
	b, err := psono.NewPatterns(c.blacklist)
	if err != nil {
		return nil, fmt.Errorf("audit blacklist: %w", err)
	}
	return &EventFilter{next: next, whitelist: w, blacklist: b}, nil
}

// Allowed reports whether the filter passes on records of the event.
func (f *EventFilter) Allowed(event string) bool {
	if event == "" {
		return f.whitelist.Empty()
	}
	if !f.whitelist.Empty() && !f.whitelist.Match(event) {
		return false
	}
	return !f.blacklist.Match(event)
}

// Enabled reports false for an event the lists do not allow and otherwise
// asks the wrapped processor. An empty event name in param means the caller
// does not know the event yet, so it does not disable.
func (f *EventFilter) Enabled(ctx context.Context, param sdklog.EnabledParameters) bool {
	if param.EventName != "" && !f.Allowed(param.EventName) && !passes(param.EventName, param.InstrumentationScope.Name) {
		return false
	}
	return f.next.Enabled(ctx, param)
}

// OnEmit passes the record to the wrapped processor when its event is
// allowed and drops it otherwise. A checkpoint record of the sealer
// (psono.IsCheckpoint) and a drop record of the spool (psono.IsDropRecord)
// always pass: the whitelist and blacklist choose the service's events, and
// must never take the off-host copy of the seal, or the word of its holes,
// away.
func (f *EventFilter) OnEmit(ctx context.Context, r *sdklog.Record) error {
	if !f.Allowed(r.EventName()) && !passes(r.EventName(), r.InstrumentationScope().Name) {
		return nil
	}
	return f.next.OnEmit(ctx, r)
}

// passes reports the records the lists never stop: the sealer's
// checkpoints and the spool's drop records.
func passes(event, scope string) bool {
	return psono.IsCheckpoint(event, scope) || psono.IsDropRecord(event, scope)
}

// Shutdown shuts the wrapped processor down.
func (f *EventFilter) Shutdown(ctx context.Context) error { return f.next.Shutdown(ctx) }

// ForceFlush flushes the wrapped processor.
func (f *EventFilter) ForceFlush(ctx context.Context) error { return f.next.ForceFlush(ctx) }
