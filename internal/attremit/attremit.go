// Package attremit is the contract between the audit middleware (package
// instrument) and the logger otelaudit.New gives it: a log.Logger that also
// implements Emitter takes a record's fields and attributes as they are,
// without the log.Record of the logs API in between (whose attributes past
// the fifth are one more allocation, copied once more by the SDK).
package attremit

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
)

// Emitter is a log.Logger that takes a record's fields directly. What
// EmitAttributes emits is the record Emit would emit for a log.Record with
// the same fields: the time as both timestamp and observed timestamp, the
// severity, its text, the event name and the attributes, in order, and the
// trace context of ctx. attrs is the caller's, and is not kept.
type Emitter interface {
	log.Logger
	EmitAttributes(ctx context.Context, t time.Time, sev log.Severity, sevText, event string, attrs []attribute.KeyValue)
}

// Record returns the log.Record of the logs API with these fields: the
// time as both timestamp and observed timestamp, the severity, its text,
// the event name and the attributes. It is what a logger that is not an
// Emitter gets, and what an Emitter gives the SDK's own logger when it does
// not take the record itself.
func Record(t time.Time, sev log.Severity, sevText, event string, attrs []attribute.KeyValue) log.Record {
	var r log.Record
	r.SetTimestamp(t)
	r.SetObservedTimestamp(t)
	r.SetSeverity(sev)
	r.SetSeverityText(sevText)
	r.SetEventName(event)
	r.AddAttributes(attrs...)
	return r
}
