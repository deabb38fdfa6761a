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
	"strings"

	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/psono"
)

// ValidatePattern reports whether p is a valid whitelist or blacklist entry:
// an event code such as "READ_INFO_SUCCESS", or a prefix ending in a single
// "*" such as "LOGIN_*" ("*" alone matches every event). Events are matched
// in upper case, as instrument.EventCode writes them, so an entry that
// EventCode would change ("login_*") could never match and is refused.
func ValidatePattern(p string) error {
	if p == "" {
		return fmt.Errorf("empty event pattern")
	}
	if i := strings.IndexByte(p, '*'); i >= 0 && i != len(p)-1 {
		return fmt.Errorf("event pattern %q: '*' is allowed only at the end, as a prefix match", p)
	}
	if strings.ContainsFunc(p, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fmt.Errorf("event pattern %q holds whitespace or a control character", p)
	}
	if up := instrument.EventCode(p); up != p {
		return fmt.Errorf("%q can never match, event codes are upper case; write %q", p, up)
	}
	return nil
}

// matcher matches event codes against exact codes and prefixes.
type matcher struct {
	exact    map[string]struct{}
	prefixes []string
	all      bool
}

func newMatcher(patterns []string) (matcher, error) {
	m := matcher{exact: make(map[string]struct{}, len(patterns))}
	for _, p := range patterns {
		if err := ValidatePattern(p); err != nil {
			return matcher{}, err
		}
		switch {
		case p == "*":
			m.all = true
		case strings.HasSuffix(p, "*"):
			m.prefixes = append(m.prefixes, strings.TrimSuffix(p, "*"))
		default:
			m.exact[p] = struct{}{}
		}
	}
	return m, nil
}

func (m *matcher) empty() bool { return !m.all && len(m.exact) == 0 && len(m.prefixes) == 0 }

// match reports whether the event, in the form of instrument.EventCode,
// matches.
func (m *matcher) match(event string) bool {
	if m.all {
		return true
	}
	if _, ok := m.exact[event]; ok {
		return true
	}
	for _, p := range m.prefixes {
		if strings.HasPrefix(event, p) {
			return true
		}
	}
	return false
}

// EventFilter is an sdklog.Processor that passes a record on to the processor
// it wraps only when the record's event name is allowed: on the whitelist (or
// the whitelist is empty) and not on the blacklist. A record without an event
// name is allowed only when the whitelist is empty. Event names are matched
// in upper case (instrument.EventCode), as package instrument records them,
// so that a record another emitter names in lower case is not let through
// or dropped for its letters' case.
//
// EventFilter answers Enabled from the event name as well, so the
// instrumentation can skip building a record that would be dropped.
type EventFilter struct {
	next      sdklog.Processor
	whitelist matcher
	blacklist matcher
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
// when a pattern is not valid (see ValidatePattern).
func NewEventFilter(next sdklog.Processor, opts ...Option) (*EventFilter, error) {
	var c filterConfig
	for _, o := range opts {
		o(&c)
	}
	w, err := newMatcher(c.whitelist)
	if err != nil {
		return nil, fmt.Errorf("audit whitelist: %w", err)
	}
	b, err := newMatcher(c.blacklist)
	if err != nil {
		return nil, fmt.Errorf("audit blacklist: %w", err)
	}
	return &EventFilter{next: next, whitelist: w, blacklist: b}, nil
}

// Allowed reports whether the filter passes on records of the event.
func (f *EventFilter) Allowed(event string) bool {
	if event == "" {
		return f.whitelist.empty()
	}
	event = instrument.EventCode(event)
	if !f.whitelist.empty() && !f.whitelist.match(event) {
		return false
	}
	return !f.blacklist.match(event)
}

// Enabled reports false for an event the lists do not allow and otherwise
// asks the wrapped processor. An empty event name in param means the caller
// does not know the event yet, so it does not disable.
func (f *EventFilter) Enabled(ctx context.Context, param sdklog.EnabledParameters) bool {
	if param.EventName != "" && !f.Allowed(param.EventName) && !psono.IsCheckpoint(param.EventName, param.InstrumentationScope.Name) {
		return false
	}
	return f.next.Enabled(ctx, param)
}

// OnEmit passes the record to the wrapped processor when its event is
// allowed and drops it otherwise. A checkpoint record of the sealer
// (psono.IsCheckpoint) always passes: the whitelist and blacklist choose the
// service's events, and must never take the off-host copy of the seal away.
func (f *EventFilter) OnEmit(ctx context.Context, r *sdklog.Record) error {
	if !f.Allowed(r.EventName()) && !psono.IsCheckpoint(r.EventName(), r.InstrumentationScope().Name) {
		return nil
	}
	return f.next.OnEmit(ctx, r)
}

// Shutdown shuts the wrapped processor down.
func (f *EventFilter) Shutdown(ctx context.Context) error { return f.next.Shutdown(ctx) }

// ForceFlush flushes the wrapped processor.
func (f *EventFilter) ForceFlush(ctx context.Context) error { return f.next.ForceFlush(ctx) }
