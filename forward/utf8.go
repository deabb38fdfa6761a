package forward

import (
	"context"
	"slices"
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

// sanitizeRecord replaces invalid UTF-8 in r's event name, body and
// attributes (keys and values, inside slices and maps too: the OCSF schema
// sends the event as a map body), leaving a valid record untouched.
func sanitizeRecord(r *sdklog.Record) {
	if name := r.EventName(); !utf8.ValidString(name) {
		r.SetEventName(strings.ToValidUTF8(name, "\uFFFD"))
	}
	if body := r.Body(); !validValue(body) {
		r.SetBody(cleanValue(body))
	}
	valid := true
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		valid = utf8.ValidString(string(kv.Key)) && validValue(kv.Value)
		return valid
	})
	if valid {
		return
	}
	attrs := make([]attribute.KeyValue, 0, r.AttributesLen())
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		attrs = append(attrs, cleanKeyValue(kv))
		return true
	})
	r.SetAttributes(attrs...)
}

// validValue reports whether every string in v is valid UTF-8.
func validValue(v attribute.Value) bool {
	switch v.Type() {
	case attribute.STRING:
		return utf8.ValidString(v.AsString())
	case attribute.STRINGSLICE:
		for _, s := range v.AsStringSlice() {
			if !utf8.ValidString(s) {
				return false
			}
		}
	case attribute.SLICE:
		for _, e := range v.AsSlice() {
			if !validValue(e) {
				return false
			}
		}
	case attribute.MAP:
		for _, kv := range v.AsMap() {
			if !utf8.ValidString(string(kv.Key)) || !validValue(kv.Value) {
				return false
			}
		}
	}
	return true
}

// cleanValue returns v with each run of invalid UTF-8 in its strings
// replaced by U+FFFD.
func cleanValue(v attribute.Value) attribute.Value {
	clean := func(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
	switch v.Type() {
	case attribute.STRING:
		return attribute.StringValue(clean(v.AsString()))
	case attribute.STRINGSLICE:
		ss := slices.Clone(v.AsStringSlice())
		for i := range ss {
			ss[i] = clean(ss[i])
		}
		return attribute.StringSliceValue(ss)
	case attribute.SLICE:
		es := slices.Clone(v.AsSlice())
		for i := range es {
			es[i] = cleanValue(es[i])
		}
		return attribute.SliceValue(es...)
	case attribute.MAP:
		kvs := slices.Clone(v.AsMap())
		for i := range kvs {
			kvs[i] = cleanKeyValue(kvs[i])
		}
		return attribute.MapValue(kvs...)
	}
	return v
}

func cleanKeyValue(kv attribute.KeyValue) attribute.KeyValue {
	kv.Key = attribute.Key(strings.ToValidUTF8(string(kv.Key), "\uFFFD"))
	kv.Value = cleanValue(kv.Value)
	return kv
}
