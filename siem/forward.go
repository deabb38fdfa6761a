package siem

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/exporter"
	"github.com/otelaudit/otelaudit/psono"
)

// A Schema is what forwarded records carry: the setting
// LOGGING_AUDIT_FORWARD_SCHEMA. audit.log is the same whatever it is.
type Schema string

const (
	// SchemaPsono keeps the attributes as they are (psono.Fields' keys)
	// and makes the body the Psono line, so that a backend shows the audit
	// line as each record's message. The default.
	SchemaPsono Schema = "psono"
	// SchemaOCSF makes the body the OCSF 1.8.0 event (see OCSF), as an
	// OTLP map; the attributes stay as they are.
	SchemaOCSF Schema = "ocsf"
	// SchemaECS gives the attributes their ECS 9.4.0 names (see ECS), so
	// that the Elasticsearch exporter's ecs mode stores them as they are;
	// the body is the Psono line (ECS message).
	SchemaECS Schema = "ecs"
)

// ParseSchema returns the schema named s; "" is SchemaPsono.
func ParseSchema(s string) (Schema, error) {
	switch Schema(s) {
	case "", SchemaPsono:
		return SchemaPsono, nil
	case SchemaOCSF, SchemaECS:
		return Schema(s), nil
	}
	return "", fmt.Errorf("LOGGING_AUDIT_FORWARD_SCHEMA %q: want psono, ocsf or ecs", s)
}

// Exporter returns exp behind a decorator that gives every record of a
// batch the form schema names before handing the batch on. loc is the zone
// of the lines' times (time.UTC for LOGGING_AUDIT_TIME time_utc, time.Local
// for time_server), as the file exporter writes them.
//
// The line is made from the record by exporter.AppendLine, so it is the
// line audit.log holds. The sealer's checkpoint records pass unchanged. A
// record whose line is not a record the mappings take (it has no event)
// gets the line as its body and keeps its attributes. Behind a
// forward.Queue the work is done on the queue's worker, never on a
// request's path.
func Exporter(exp sdklog.Exporter, schema Schema, loc *time.Location) sdklog.Exporter {
	if loc == nil {
		loc = time.UTC
	}
	return &schemaExporter{Exporter: exp, schema: schema, loc: loc}
}

type schemaExporter struct {
	sdklog.Exporter
	schema Schema
	loc    *time.Location
}

func (e *schemaExporter) Export(ctx context.Context, records []sdklog.Record) error {
	var buf []byte
	for i := range records {
		buf = e.convert(&records[i], buf)
	}
	return e.Exporter.Export(ctx, records)
}

// convert gives r the form of e.schema; buf is scratch space, returned
// for the next record.
func (e *schemaExporter) convert(r *sdklog.Record, buf []byte) []byte {
	if psono.IsCheckpoint(r.EventName(), r.InstrumentationScope().Name) {
		return buf
	}
	buf = exporter.AppendLine(buf[:0], r, e.loc)
	raw := string(bytes.TrimSuffix(buf, []byte("\n")))
	if e.schema == SchemaPsono || e.schema == "" {
		r.SetBody(attribute.StringValue(raw))
		return buf
	}
	l, err := psono.Parse(raw)
	rec := Record{Line: l, Raw: raw, Location: e.loc, Position: position(r)}
	if tid := r.TraceID(); tid.IsValid() {
		rec.TraceID = tid.String()
	}
	if sid := r.SpanID(); sid.IsValid() {
		rec.SpanID = sid.String()
	}
	switch e.schema {
	case SchemaOCSF:
		var ev map[string]any
		if err == nil {
			ev, err = OCSF(rec)
		}
		if err != nil {
			r.SetBody(attribute.StringValue(raw))
			return buf
		}
		r.SetBody(value(ev))
	case SchemaECS:
		r.SetBody(attribute.StringValue(raw))
		var doc map[string]any
		if err == nil {
			doc, err = ECS(rec)
		}
		if err != nil {
			return buf
		}
		r.SetAttributes(ecsAttributes(r, doc)...)
	}
	return buf
}

// position returns the record's position in the sealed audit.log, nil
// when it has none.
func position(r *sdklog.Record) *Position {
	var p Position
	found := false
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		switch kv.Key {
		case psono.LogTree:
			p.Tree = kv.Value.AsInt64()
		case psono.LogIndex:
			p.Index, found = kv.Value.AsInt64(), true
		}
		return true
	})
	if !found {
		return nil
	}
	return &p
}

// ecsOwn are the ECS fields the record itself carries: its timestamp, body
// and trace context.
var ecsOwn = map[string]bool{"@timestamp": true, "message": true, "event.original": true, "trace.id": true, "span.id": true}

// ecsAttributes returns the attributes of r under ECS names: the fields of
// doc (but for what the record carries itself), then r's attributes that
// are not a field of the line or its position, unchanged.
func ecsAttributes(r *sdklog.Record, doc map[string]any) []attribute.KeyValue {
	flat := Flatten(doc)
	attrs := make([]attribute.KeyValue, 0, len(flat)+4)
	for _, k := range slices.Sorted(maps.Keys(flat)) {
		if !ecsOwn[k] {
			attrs = append(attrs, attribute.KeyValue{Key: attribute.Key(k), Value: value(flat[k])})
		}
	}
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		if !lineAttr(kv.Key) {
			attrs = append(attrs, kv)
		}
		return true
	})
	return attrs
}

// lineAttr reports whether key carries a field of the line or the line's
// position, which the ECS fields replace.
func lineAttr(key attribute.Key) bool {
	if key == psono.LogTree || key == psono.LogIndex || strings.HasPrefix(string(key), psono.KwargAttrPrefix) {
		return true
	}
	for _, f := range psono.Fields {
		if f.Attr != "" && f.Attr == key {
			return true
		}
	}
	return false
}

// value returns v, a value of the mappings, as an attribute value: maps
// with their keys sorted.
func value(v any) attribute.Value {
	switch v := v.(type) {
	case string:
		return attribute.StringValue(v)
	case int:
		return attribute.IntValue(v)
	case int64:
		return attribute.Int64Value(v)
	case bool:
		return attribute.BoolValue(v)
	case []string:
		return attribute.StringSliceValue(v)
	case map[string]any:
		kvs := make([]attribute.KeyValue, 0, len(v))
		for _, k := range slices.Sorted(maps.Keys(v)) {
			kvs = append(kvs, attribute.KeyValue{Key: attribute.Key(k), Value: value(v[k])})
		}
		return attribute.MapValue(kvs...)
	}
	return attribute.StringValue(fmt.Sprint(v))
}
