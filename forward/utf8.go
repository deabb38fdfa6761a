package forward

import (
	"context"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// ValidUTF8 returns exp behind a decorator that makes every string of a
// record valid UTF-8 before handing the batch on. An OTLP string must be UTF-8 and the protobuf
// encoder refuses a message holding anything else, so a single request with
// invalid UTF-8 in its path would otherwise fail the export of its whole
// batch. Each run of invalid bytes becomes U+FFFD, as the example
// collector's file_log configuration does for audit.log lines. Behind a
// Queue it runs on the queue's worker, never on a request's path; audit.log
// keeps the exact bytes (escaped).
func ValidUTF8(exp sdklog.Exporter) sdklog.Exporter { return validUTF8{exp} }

type validUTF8 struct {
	sdklog.Exporter
}

func (e validUTF8) Export(ctx context.Context, records []sdklog.Record) error {
	for i := range records {
		sanitizeRecord(&records[i])
	}
	return e.Exporter.Export(ctx, records)
}

// sanitizeRecord replaces invalid UTF-8 in r's event name and string
// attributes, leaving a valid record untouched.
func sanitizeRecord(r *sdklog.Record) {
	if name := r.EventName(); !utf8.ValidString(name) {
		r.SetEventName(strings.ToValidUTF8(name, "\uFFFD"))
	}
	valid := true
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		valid = utf8.ValidString(string(kv.Key)) &&
			(kv.Value.Type() != attribute.STRING || utf8.ValidString(kv.Value.AsString()))
		return valid
	})
	if valid {
		return
	}
	attrs := make([]attribute.KeyValue, 0, r.AttributesLen())
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		kv.Key = attribute.Key(strings.ToValidUTF8(string(kv.Key), "\uFFFD"))
		if kv.Value.Type() == attribute.STRING {
			kv.Value = attribute.StringValue(strings.ToValidUTF8(kv.Value.AsString(), "\uFFFD"))
		}
		attrs = append(attrs, kv)
		return true
	})
	r.SetAttributes(attrs...)
}
