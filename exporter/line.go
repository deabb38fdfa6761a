package exporter

import (
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/psono"
)

// AppendLine appends the Psono line of r, with its trailing newline, to dst
// (psono.LineBuilder makes it: the line's syntax lives in package psono).
// The time is r's Timestamp (its ObservedTimestamp when Timestamp is unset)
// in loc.
func AppendLine(dst []byte, r *sdklog.Record, loc *time.Location) []byte {
	t := r.Timestamp()
	if t.IsZero() {
		t = r.ObservedTimestamp()
	}
	var b psono.LineBuilder
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		b.Add(kv)
		return true
	})
	var walk func(func(attribute.KeyValue) bool)
	if b.Overflow() {
		walk = r.WalkAttributes // a record with many attributes is walked again
	}
	return b.AppendLine(dst, t, loc, r.EventName(), walk)
}
