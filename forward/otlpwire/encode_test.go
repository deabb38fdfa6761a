package otlpwire

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"
)

var (
	ts       = time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.UTC)
	traceID  = trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	spanID   = trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7}
	spanCtx  = trace.NewSpanContext(trace.SpanContextConfig{TraceID: traceID, SpanID: spanID, TraceFlags: trace.FlagsSampled})
	traceCtx = trace.ContextWithSpanContext(context.Background(), spanCtx)

	resA = resource.NewWithAttributes("https://opentelemetry.io/schemas/1.26.0",
		attribute.String("service.name", "psono"), attribute.String("host.name", "audit-1"), attribute.Int("pid", 4242))
	// resA2 has resA's attributes under another schema URL: otlploghttp
	// puts its records in resA's ResourceLogs.
	resA2 = resource.NewWithAttributes("https://example.com/other-schema",
		attribute.String("service.name", "psono"), attribute.String("host.name", "audit-1"), attribute.Int("pid", 4242))
	resB = resource.NewSchemaless(attribute.String("service.name", "gateway"),
		attribute.StringSlice("tags", []string{"a", "b"}), attribute.Bool("canary", true))
	resEmpty = resource.Empty()
)

// values holds one value of every kind, edge cases included.
var values = map[string]attribute.Value{
	"empty":          {},
	"string":         attribute.StringValue("user alice logged in"),
	"string.empty":   attribute.StringValue(""),
	"string.long":    attribute.StringValue(strings.Repeat("é", 100)), // 200 bytes: a two-byte length
	"bool.true":      attribute.BoolValue(true),
	"bool.false":     attribute.BoolValue(false),
	"int.zero":       attribute.Int64Value(0),
	"int.neg":        attribute.Int64Value(-1),
	"int.max":        attribute.Int64Value(math.MaxInt64),
	"int.min":        attribute.Int64Value(math.MinInt64),
	"float":          attribute.Float64Value(-1.5),
	"float.zero":     attribute.Float64Value(0),
	"float.inf":      attribute.Float64Value(math.Inf(1)),
	"bytes":          attribute.ByteSliceValue([]byte{0, 1, 2, 0xff}),
	"bytes.empty":    attribute.ByteSliceValue([]byte{}),
	"bools":          attribute.BoolSliceValue([]bool{true, false}),
	"ints":           attribute.Int64SliceValue([]int64{0, -1, 300, math.MaxInt64}),
	"floats":         attribute.Float64SliceValue([]float64{0, 2.5, math.Inf(-1)}),
	"strings":        attribute.StringSliceValue([]string{"", "a", strings.Repeat("x", 130)}),
	"strings.empty":  attribute.StringSliceValue(nil),
	"slice":          attribute.SliceValue(attribute.StringValue("x"), attribute.Int64Value(7), attribute.Value{}, attribute.BoolValue(false)),
	"slice.empty":    attribute.SliceValue(),
	"slice.nested":   attribute.SliceValue(attribute.SliceValue(attribute.SliceValue(attribute.StringValue("deep"))), attribute.MapValue(attribute.String("k", "v"))),
	"map":            attribute.MapValue(attribute.String("user", "alice"), attribute.Int("uid", 1000), attribute.Bool("admin", false)),
	"map.empty":      attribute.MapValue(),
	"map.nested":     attribute.MapValue(attribute.KeyValue{Key: "inner", Value: attribute.MapValue(attribute.KeyValue{Key: "list", Value: attribute.SliceValue(attribute.MapValue(attribute.Float64("f", 1)), attribute.ByteSliceValue([]byte("b")))})}),
	"map.emptyvalue": attribute.MapValue(attribute.KeyValue{Key: "nothing", Value: attribute.Value{}}),
	"map.big":        attribute.MapValue(attribute.String("a", strings.Repeat("a", 200)), attribute.String("b", strings.Repeat("b", 20000))),
}

// allAttributes returns one attribute per entry of values.
func allAttributes() []attribute.KeyValue {
	var kvs []attribute.KeyValue
	for k, v := range values {
		kvs = append(kvs, attribute.KeyValue{Key: attribute.Key(k), Value: v})
	}
	return kvs
}

func fullRecord(body attribute.Value) log.Record {
	var r log.Record
	r.SetTimestamp(ts)
	r.SetObservedTimestamp(ts.Add(time.Millisecond))
	r.SetSeverity(log.SeverityWarn2)
	r.SetSeverityText("WARN2")
	r.SetEventName("psono.login")
	r.SetBody(body)
	r.AddAttributes(allAttributes()...)
	return r
}

// psonoAttributes are twelve attributes of a Psono audit line.
func psonoAttributes(i int) []attribute.KeyValue {
	return []attribute.KeyValue{
		attribute.String("event", "LOGIN_SUCCESS"),
		attribute.String("user", "alice@example.com"),
		attribute.String("user_id", "7f0c1a36-4c7e-4b5e-9c1e-0a8f5d6f2b11"),
		attribute.String("ip", "203.0.113.17"),
		attribute.String("method", "POST"),
		attribute.String("path", "/authentication/login/"),
		attribute.Int("status", 200),
		attribute.Int("duration_ms", 12+i%50),
		attribute.String("user_agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"),
		attribute.String("session", "c2Vzc2lvbi1pZC0xMjM0NTY3ODkw"),
		attribute.Int("request_id", 100000+i),
		attribute.String("host", "psono.example.com"),
	}
}

const psonoBody = `2026-03-14T15:09:26.535897 INFO event=LOGIN_SUCCESS user=alice@example.com user_id=7f0c1a36-4c7e-4b5e-9c1e-0a8f5d6f2b11 ip=203.0.113.17 method=POST path=/authentication/login/ status=200`

func psonoRecord(i int) log.Record {
	var r log.Record
	r.SetTimestamp(ts.Add(time.Duration(i) * time.Millisecond))
	r.SetObservedTimestamp(ts.Add(time.Duration(i)*time.Millisecond + time.Microsecond))
	r.SetSeverity(log.SeverityInfo)
	r.SetSeverityText("INFO")
	r.SetEventName("psono.audit")
	r.SetBody(attribute.StringValue(psonoBody))
	r.AddAttributes(psonoAttributes(i)...)
	return r
}

var (
	scopeOpts     = []log.LoggerOption{log.WithInstrumentationVersion("v1.2.3"), log.WithSchemaURL("https://opentelemetry.io/schemas/1.26.0"), log.WithInstrumentationAttributes(attribute.String("scope.attr", "x"), attribute.Int("n", 1))}
	schemaOnly    = []log.LoggerOption{log.WithSchemaURL("https://example.com/scope-schema")}
	versionedOpts = []log.LoggerOption{log.WithInstrumentationVersion("0.1")}
)

// encodeCases are batches that, together, set every field and every value
// kind, and the grouping cases.
func encodeCases(t *testing.T) map[string][]sdklog.Record {
	cases := map[string][]sdklog.Record{}
	add := func(name string, build func(e *emitter), opts ...sdklog.LoggerProviderOption) {
		e := newEmitter(t, opts...)
		build(e)
		cases[name] = e.records()
	}

	add("zero record, empty resource and scope", func(e *emitter) {
		e.emit(context.Background(), resEmpty, "", nil, log.Record{})
	})
	add("every field", func(e *emitter) {
		e.emit(traceCtx, resA, "otelaudit", scopeOpts, fullRecord(attribute.StringValue(psonoBody)))
	})
	add("every body kind", func(e *emitter) {
		for k, v := range values {
			r := fullRecord(v)
			r.SetEventName(k)
			e.emit(traceCtx, resA, "otelaudit", scopeOpts, r)
		}
	})
	add("dropped attributes", func(e *emitter) {
		e.emit(context.Background(), resB, "limited", nil, fullRecord(attribute.StringValue("b")))
	}, sdklog.WithAttributeCountLimit(3))
	add("severities and times", func(e *emitter) {
		for s := log.Severity(0); s <= 26; s++ {
			var r log.Record
			r.SetSeverity(s)
			r.SetTimestamp(time.Unix(int64(s)-13, 0)) // before 1970 for s < 13: sent as 0
			r.SetObservedTimestamp(time.Unix(0, int64(s)))
			e.emit(context.Background(), resB, "sev", nil, r)
		}
	})
	add("record lengths around varint boundaries", func(e *emitter) {
		// Bodies whose records encode to either side of 127, 16383 and
		// 2097151 bytes: finishLen moves them.
		for _, n := range []int{0, 1, 100, 110, 120, 125, 126, 127, 128, 16360, 16370, 16375, 16380, 16383, 16384, 2097140, 2097150} {
			var r log.Record
			r.SetBody(attribute.StringValue(strings.Repeat("z", n)))
			e.emit(context.Background(), resEmpty, "", nil, r)
		}
	})
	add("interleaved resources and scopes", func(e *emitter) {
		type src struct {
			res   *resource.Resource
			scope string
			opts  []log.LoggerOption
		}
		srcs := []src{
			{resA, "otelaudit", scopeOpts},
			{resB, "otelaudit", scopeOpts},
			{resA, "other", versionedOpts},
			{resA2, "otelaudit", scopeOpts}, // groups with resA
			{resEmpty, "", schemaOnly},      // scope with only a schema URL
			{resB, "", nil},                 // the zero scope
			{resA, "otelaudit", versionedOpts},
		}
		for i := range 40 {
			s := srcs[(i*5)%len(srcs)]
			e.emit(traceCtx, s.res, s.scope, s.opts, psonoRecord(i))
		}
	})
	add("psono batch", func(e *emitter) {
		for i := range 100 {
			e.emit(traceCtx, resA, "otelaudit", nil, psonoRecord(i))
		}
	})

	// Fields the log API sets only through a context, set directly.
	e := newEmitter(t)
	e.emit(context.Background(), resA, "direct", nil, fullRecord(attribute.Int64Value(1)))
	e.emit(context.Background(), resA, "direct", nil, fullRecord(attribute.Int64Value(2)))
	recs := e.records()
	recs[0].SetTraceID(traceID)
	recs[0].SetTraceFlags(0xff)
	recs[1].SetSpanID(spanID)
	recs[1].SetTraceFlags(trace.FlagsSampled)
	recs[1].SetBody(attribute.MapValue(attribute.KeyValue{Key: "", Value: attribute.StringValue("empty key")}))
	cases["trace ids and flags set directly"] = recs
	return cases
}

// TestAppendRequestMatchesOtlploghttp encodes each batch and compares it,
// decoded, with what the standard otlploghttp exporter sends.
func TestAppendRequestMatchesOtlploghttp(t *testing.T) {
	ref := newReference(t)
	for name, records := range encodeCases(t) {
		t.Run(name, func(t *testing.T) {
			want, err := ref.request(records)
			if err != nil {
				t.Fatalf("otlploghttp: %v", err)
			}
			b, err := AppendRequest(nil, records)
			if err != nil {
				t.Fatalf("AppendRequest: %v", err)
			}
			got := decode(t, b)
			if !proto.Equal(got, want) {
				t.Fatalf("AppendRequest differs from otlploghttp:\n%s", diff(got, want))
			}
		})
	}
}

func TestAppendRequestAppends(t *testing.T) {
	if b, err := AppendRequest([]byte("x"), nil); err != nil || string(b) != "x" {
		t.Fatalf("AppendRequest(x, no records) = %q, %v; want x unchanged", b, err)
	}
	e := newEmitter(t)
	e.emit(context.Background(), resA, "s", nil, psonoRecord(1))
	recs := e.records()
	alone, err := AppendRequest(nil, recs)
	if err != nil {
		t.Fatal(err)
	}
	prefixed, err := AppendRequest([]byte("prefix"), recs)
	if err != nil {
		t.Fatal(err)
	}
	if string(prefixed) != "prefix"+string(alone) {
		t.Fatalf("AppendRequest with a prefix did not append the same bytes")
	}
}

// TestAppendRequestInvalidUTF8 checks that a batch with a string that is not
// UTF-8 fails, as it does in otlploghttp, with an error that says where.
func TestAppendRequestInvalidUTF8(t *testing.T) {
	ref := newReference(t)
	bad := "caf\xe9"
	tests := []struct {
		name  string
		build func(r *log.Record)
		where string
	}{
		{"body", func(r *log.Record) { r.SetBody(attribute.StringValue(bad)) }, "record 1 of the batch: the body"},
		{"attribute value", func(r *log.Record) { r.AddAttributes(attribute.String("user", bad)) }, `record 1 of the batch: attribute "user"`},
		{"nested", func(r *log.Record) {
			r.AddAttributes(attribute.KeyValue{Key: "m", Value: attribute.MapValue(attribute.StringSlice("list", []string{"ok", bad}))})
		}, `record 1 of the batch: attribute "m"`},
		{"severity text", func(r *log.Record) { r.SetSeverityText(bad) }, "record 1 of the batch: the severity text"},
		{"event name", func(r *log.Record) { r.SetEventName(bad) }, "record 1 of the batch: the event name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEmitter(t)
			e.emit(context.Background(), resA, "s", nil, psonoRecord(0))
			var r log.Record
			tt.build(&r)
			e.emit(context.Background(), resA, "s", nil, r)
			recs := e.records()
			if _, err := ref.request(recs); err == nil {
				t.Fatalf("otlploghttp sent the batch; this test expects it to refuse invalid UTF-8")
			}
			out, err := AppendRequest([]byte("keep"), recs)
			if !errors.Is(err, ErrInvalidUTF8) {
				t.Fatalf("AppendRequest error = %v, want ErrInvalidUTF8", err)
			}
			if !strings.Contains(err.Error(), tt.where) {
				t.Errorf("error %q does not say %q", err, tt.where)
			}
			if string(out) != "keep" {
				t.Errorf("AppendRequest returned %q on error, want dst unchanged", out)
			}
		})
	}
	t.Run("resource", func(t *testing.T) {
		e := newEmitter(t)
		e.emit(context.Background(), resource.NewSchemaless(attribute.String("host.name", bad)), "s", nil, psonoRecord(0))
		_, err := AppendRequest(nil, e.records())
		if !errors.Is(err, ErrInvalidUTF8) || !strings.Contains(err.Error(), `resource attribute "host.name"`) {
			t.Fatalf("AppendRequest error = %v, want ErrInvalidUTF8 naming the resource attribute", err)
		}
	})
}

// TestAppendRequestAllocations checks that a batch costs a few allocations,
// not some per record.
func TestAppendRequestAllocations(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("measures allocations; not with -short or -race")
	}
	e := newEmitter(t)
	for i := range 100 {
		e.emit(traceCtx, resA, "otelaudit", scopeOpts, psonoRecord(i))
	}
	recs := e.records()
	buf := make([]byte, 0, 1<<20)
	var err error
	allocs := testing.AllocsPerRun(50, func() { buf, err = AppendRequest(buf[:0], recs) })
	if err != nil {
		t.Fatal(err)
	}
	if allocs > 5 {
		t.Errorf("AppendRequest of 100 records: %.0f allocations, want at most 5", allocs)
	}
}
