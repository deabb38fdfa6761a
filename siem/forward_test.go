package siem_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit/internal/seed"
	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/sdklogtest"
	"github.com/otelaudit/otelaudit/siem"
)

// emit makes an SDK record the way the middleware and the sealer do: the
// attributes of seed.Lines[5] (LIST_DATASTORE_SUCCESS with a kwarg), its
// route, its position and a trace context.
func emit(t testing.TB, scope, event string) sdklog.Record {
	t.Helper()
	c := &sdklogtest.Recorder{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(c))
	var r log.Record
	r.SetTimestamp(time.Date(2020, 5, 24, 7, 55, 41, 473771000, time.UTC))
	r.SetEventName(event)
	r.AddAttributes(
		attribute.String(string(psono.Logger.Attr), "restapi.views.datastore"),
		attribute.String(string(psono.UserIP.Attr), "10.10.10.145"),
		attribute.String(string(psono.ReqMethod.Attr), "GET"),
		attribute.String(string(psono.ReqURL.Attr), "/datastore/bed4572d-6a28-4c00-94c2-dd45322de1d0/"),
		attribute.Bool(string(psono.Success.Attr), true),
		attribute.String(string(psono.Hostname.Attr), "0a5048185933"),
		attribute.Int(string(psono.Status.Attr), 200),
		attribute.String(string(psono.User.Attr), "demo2@example.com"),
		attribute.String(string(psono.UserID.Attr), "ba504938-9a23-4162-867f-6840c301bc20"),
		attribute.String(string(psono.KwargAttr("datastore_id")), "bed4572d-6a28-4c00-94c2-dd45322de1d0"),
		attribute.String(string(psono.Route), "GET /datastore/{datastore_id}/"),
		psono.LogTree.Int64(2), psono.LogIndex.Int64(5),
	)
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: 1}))
	lp.Logger(scope).Emit(ctx, r)
	return c.Records()[0]
}

// forwarded passes rec through siem.Exporter and returns what reached the
// exporter behind it.
func forwarded(t *testing.T, schema siem.Schema, rec sdklog.Record) sdklog.Record {
	t.Helper()
	c := &sdklogtest.Recorder{}
	if err := siem.Exporter(c, schema, time.UTC).Export(context.Background(), []sdklog.Record{rec}); err != nil {
		t.Fatal(err)
	}
	return c.Records()[0]
}

// asAny returns an attribute value as the mappings' maps and values.
func asAny(v attribute.Value) any {
	switch v.Type() {
	case attribute.MAP:
		m := map[string]any{}
		for _, kv := range v.AsMap() {
			m[string(kv.Key)] = asAny(kv.Value)
		}
		return m
	case attribute.STRINGSLICE:
		return v.AsStringSlice()
	}
	return v.AsInterface()
}

// TestExporterPsono checks the default schema: the body is the line.
func TestExporterPsono(t *testing.T) {
	r := forwarded(t, siem.SchemaPsono, emit(t, "github.com/otelaudit/otelaudit", "LIST_DATASTORE_SUCCESS"))
	if got := r.Body().AsString(); got != seed.Lines[5] {
		t.Errorf("body = %q\nwant %q", got, seed.Lines[5])
	}
	if r.AttributesLen() != 13 {
		t.Errorf("%d attributes, want the 13 emitted", r.AttributesLen())
	}
}

// TestExporterOCSF checks that the body is a valid OCSF event carrying the
// position and the trace.
func TestExporterOCSF(t *testing.T) {
	r := forwarded(t, siem.SchemaOCSF, emit(t, "github.com/otelaudit/otelaudit", "LIST_DATASTORE_SUCCESS"))
	if r.Body().Type() != attribute.MAP {
		t.Fatalf("body is %s, want a map", r.Body().Type())
	}
	e := asAny(r.Body()).(map[string]any)
	for _, p := range validateOCSF(t, e) {
		t.Error(p)
	}
	check(t, "forwarded", "OCSF", e, []want{
		{"raw_data", seed.Lines[5], true},
		{"class_uid", 6003, true},
		{"metadata.uid", "2/5", true},
		{"metadata.sequence", 5, true},
		{"trace.uid", "4bf92f3577b34da6a3ce929d0e0e4736", true},
		{"unmapped.span_id", "00f067aa0ba902b7", true},
		{"unmapped.kwarg_datastore_id", "bed4572d-6a28-4c00-94c2-dd45322de1d0", true},
	})
}

// TestExporterECS checks that the attributes carry ECS names and valid
// values, the record's other attributes kept.
func TestExporterECS(t *testing.T) {
	r := forwarded(t, siem.SchemaECS, emit(t, "github.com/otelaudit/otelaudit", "LIST_DATASTORE_SUCCESS"))
	if got := r.Body().AsString(); got != seed.Lines[5] {
		t.Errorf("body = %q, want the line", got)
	}
	doc := map[string]any{}
	var route any
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		if kv.Key == psono.Route {
			route = kv.Value.AsString()
			return true
		}
		// nest the dotted name
		m := doc
		parts := strings.Split(string(kv.Key), ".")
		for _, p := range parts[:len(parts)-1] {
			sub, ok := m[p].(map[string]any)
			if !ok {
				sub = map[string]any{}
				m[p] = sub
			}
			m = sub
		}
		m[parts[len(parts)-1]] = asAny(kv.Value)
		return true
	})
	for _, p := range validateECS(t, doc) {
		t.Error(p)
	}
	if route != "GET /datastore/{datastore_id}/" {
		t.Errorf("http.route = %v, want it kept", route)
	}
	check(t, "forwarded", "ECS", doc, []want{
		{"event.action", "LIST_DATASTORE_SUCCESS", true},
		{"event.sequence", 5, true},
		{"source.ip", "10.10.10.145", true},
		{"http.response.status_code", 200, true},
		{"psono.kwarg.datastore_id", "bed4572d-6a28-4c00-94c2-dd45322de1d0", true},
		{"client.address", nil, false},
		{"audit", nil, false},
		{"message", nil, false},
	})
}

// TestExporterCheckpoint checks that the sealer's checkpoint records pass
// unchanged.
func TestExporterCheckpoint(t *testing.T) {
	for _, s := range []siem.Schema{siem.SchemaPsono, siem.SchemaOCSF, siem.SchemaECS} {
		r := forwarded(t, s, emit(t, psono.CheckpointScope, psono.CheckpointEvent))
		if r.Body().Type() != attribute.EMPTY || r.AttributesLen() != 13 {
			t.Errorf("%s: checkpoint record changed: body %v, %d attributes", s, r.Body(), r.AttributesLen())
		}
	}
}

// TestParseSchema checks the setting's values.
func TestParseSchema(t *testing.T) {
	for in, want := range map[string]siem.Schema{"": siem.SchemaPsono, "psono": siem.SchemaPsono, "ocsf": siem.SchemaOCSF, "ecs": siem.SchemaECS} {
		if got, err := siem.ParseSchema(in); got != want || err != nil {
			t.Errorf("ParseSchema(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := siem.ParseSchema("OCSF"); err == nil || !strings.Contains(err.Error(), "want psono, ocsf or ecs") {
		t.Errorf("ParseSchema(OCSF) error = %v", err)
	}
}

// BenchmarkExporterOCSF is the cost per forwarded record of the ocsf
// schema: the line, its parse, the mapping and the OTLP map.
func BenchmarkExporterOCSF(b *testing.B) {
	benchExporter(b, siem.SchemaOCSF)
}

// BenchmarkExporterECS is BenchmarkExporterOCSF for the ecs schema.
func BenchmarkExporterECS(b *testing.B) { benchExporter(b, siem.SchemaECS) }

// BenchmarkExporterPsono is the cost per record of the default schema.
func BenchmarkExporterPsono(b *testing.B) { benchExporter(b, siem.SchemaPsono) }

func benchExporter(b *testing.B, s siem.Schema) {
	rec := emit(b, "github.com/otelaudit/otelaudit", "LIST_DATASTORE_SUCCESS")
	exp := siem.Exporter(sdklogtest.Nop{}, s, time.UTC)
	batch := make([]sdklog.Record, 1)
	b.ReportAllocs()
	for b.Loop() {
		batch[0] = rec.Clone()
		if err := exp.Export(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
}
