package otlpwire

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// gen makes random records from a seed.
type gen struct{ r *rand.Rand }

func (g gen) str() string {
	switch g.r.IntN(12) {
	case 0:
		return ""
	case 1:
		return strings.Repeat("ü", g.r.IntN(200)) // lengths across 127
	case 2:
		if g.r.IntN(8) == 0 {
			return "bad\xff" // not UTF-8: both encoders must refuse the batch
		}
	}
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 ._-/é€😀"
	var b strings.Builder
	for range g.r.IntN(24) {
		b.WriteString(string([]rune(alphabet)[g.r.IntN(len([]rune(alphabet)))]))
	}
	return b.String()
}

func (g gen) float() float64 {
	switch g.r.IntN(6) {
	case 0:
		return math.Inf(1 - 2*g.r.IntN(2))
	case 1:
		return 0
	}
	return g.r.NormFloat64() * 1e6 // never NaN: proto.Equal finds NaN unequal to itself
}

func (g gen) value(depth int) attribute.Value {
	kinds := 10
	if depth > 0 {
		kinds = 12
	}
	switch g.r.IntN(kinds) {
	case 0:
		return attribute.Value{}
	case 1:
		return attribute.BoolValue(g.r.IntN(2) == 0)
	case 2:
		return attribute.Int64Value(int64(g.r.Uint64()) >> g.r.IntN(64))
	case 3:
		return attribute.Float64Value(g.float())
	case 4:
		b := make([]byte, g.r.IntN(140))
		for i := range b {
			b[i] = byte(g.r.IntN(256))
		}
		return attribute.ByteSliceValue(b)
	case 5:
		v := make([]bool, g.r.IntN(5))
		for i := range v {
			v[i] = g.r.IntN(2) == 0
		}
		return attribute.BoolSliceValue(v)
	case 6:
		v := make([]int64, g.r.IntN(5))
		for i := range v {
			v[i] = int64(g.r.Uint64())
		}
		return attribute.Int64SliceValue(v)
	case 7:
		v := make([]float64, g.r.IntN(5))
		for i := range v {
			v[i] = g.float()
		}
		return attribute.Float64SliceValue(v)
	case 8:
		v := make([]string, g.r.IntN(5))
		for i := range v {
			v[i] = g.str()
		}
		return attribute.StringSliceValue(v)
	case 9:
		return attribute.StringValue(g.str())
	case 10:
		v := make([]attribute.Value, g.r.IntN(7))
		for i := range v {
			v[i] = g.value(depth - 1)
		}
		return attribute.SliceValue(v...)
	}
	return attribute.MapValue(g.attrs(depth-1, 7)...)
}

func (g gen) attrs(depth, max int) []attribute.KeyValue {
	kvs := make([]attribute.KeyValue, g.r.IntN(max+1))
	for i := range kvs {
		kvs[i] = attribute.KeyValue{Key: attribute.Key(g.str()), Value: g.value(depth)}
	}
	return kvs
}

func (g gen) time() time.Time {
	switch g.r.IntN(4) {
	case 0:
		return time.Time{}
	case 1:
		return time.Unix(-int64(g.r.IntN(1e9)), 0)
	}
	return time.Unix(0, int64(g.r.Uint64()>>1))
}

// batch returns random records from a few random resources and scopes,
// emitted through LoggerProviders, some with attribute limits.
func (g gen) batch(t testing.TB) []sdklog.Record {
	var opts []sdklog.LoggerProviderOption
	if g.r.IntN(3) == 0 {
		opts = append(opts, sdklog.WithAttributeCountLimit(g.r.IntN(6)))
	}
	e := newEmitter(t, opts...)
	resources := []*resource.Resource{resA, resA2, resB, resEmpty}
	for range g.r.IntN(3) {
		resources = append(resources, resource.NewWithAttributes(g.str(), g.attrs(1, 3)...))
	}
	type scope struct {
		name string
		opts []log.LoggerOption
	}
	scopes := []scope{{"", nil}, {"otelaudit", scopeOpts}, {"", schemaOnly}}
	for range g.r.IntN(3) {
		scopes = append(scopes, scope{g.str(), []log.LoggerOption{
			log.WithInstrumentationVersion(g.str()), log.WithSchemaURL(g.str()),
			log.WithInstrumentationAttributes(g.attrs(1, 3)...),
		}})
	}
	for range g.r.IntN(30) + 1 {
		var r log.Record
		if g.r.IntN(2) == 0 {
			r.SetTimestamp(g.time())
		}
		if g.r.IntN(2) == 0 {
			r.SetObservedTimestamp(g.time())
		}
		r.SetSeverity(log.Severity(g.r.IntN(30)))
		r.SetSeverityText(g.str())
		r.SetEventName(g.str())
		r.SetBody(g.value(3))
		r.AddAttributes(g.attrs(2, 16)...)
		ctx := context.Background()
		if g.r.IntN(2) == 0 {
			var tid trace.TraceID
			var sid trace.SpanID
			for i := range tid {
				tid[i] = byte(g.r.IntN(3)) // sometimes all zero: invalid, not sent
			}
			for i := range sid {
				sid[i] = byte(g.r.IntN(3))
			}
			ctx = trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
				TraceID: tid, SpanID: sid, TraceFlags: trace.TraceFlags(g.r.IntN(256)),
			}))
		}
		s := scopes[g.r.IntN(len(scopes))]
		e.emit(ctx, resources[g.r.IntN(len(resources))], s.name, s.opts, r)
	}
	return e.records()
}

// checkAgainstReference encodes records and compares them with what
// otlploghttp sends: the same request, or both refusing the batch.
func checkAgainstReference(t testing.TB, ref *reference, records []sdklog.Record) {
	t.Helper()
	want, refErr := ref.request(records)
	b, err := AppendRequest(nil, records)
	switch {
	case refErr != nil && errors.Is(err, ErrInvalidUTF8):
		return
	case refErr != nil:
		t.Fatalf("otlploghttp refused the batch (%v), AppendRequest did not (error %v)", refErr, err)
	case err != nil:
		t.Fatalf("AppendRequest: %v (otlploghttp sent the batch)", err)
	}
	if got := decode(t, b); !proto.Equal(got, want) {
		t.Fatalf("AppendRequest differs from otlploghttp:\n%s", diff(got, want))
	}
}

// TestAppendRequestRandom compares random batches with otlploghttp's.
func TestAppendRequestRandom(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 30
	}
	ref := newReference(t)
	for seed := range uint64(n) {
		g := gen{rand.New(rand.NewPCG(seed, 0x07e1a0d1))}
		checkAgainstReference(t, ref, g.batch(t))
	}
}

// FuzzAppendRequest compares the batch a seed generates with otlploghttp's:
//
//	go test -fuzz FuzzAppendRequest ./forward/otlpwire/
func FuzzAppendRequest(f *testing.F) {
	for _, s := range []uint64{0, 1, 42, 1 << 40} {
		f.Add(s)
	}
	ref := newReference(f)
	f.Fuzz(func(t *testing.T, seed uint64) {
		g := gen{rand.New(rand.NewPCG(seed, seed^0x5eed))}
		ref.t = t
		checkAgainstReference(t, ref, g.batch(t))
	})
}

// TestEncodeCasesCoverEveryField checks that the table of
// TestAppendRequestMatchesOtlploghttp sets, in otlploghttp's own requests,
// every field of the messages and every kind of AnyValue: the comparison
// then covers them all.
func TestEncodeCasesCoverEveryField(t *testing.T) {
	ref := newReference(t)
	seen := map[protoreflect.FullName]bool{}
	var walk func(m protoreflect.Message)
	walk = func(m protoreflect.Message) {
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			seen[fd.FullName()] = true
			switch {
			case fd.IsList() && fd.Message() != nil:
				for i := range v.List().Len() {
					walk(v.List().Get(i).Message())
				}
			case fd.Message() != nil && !fd.IsMap():
				walk(v.Message())
			}
			return true
		})
	}
	for _, records := range encodeCases(t) {
		req, err := ref.request(records)
		if err != nil {
			t.Fatal(err)
		}
		walk(req.ProtoReflect())
	}
	want := []protoreflect.FullName{
		"opentelemetry.proto.logs.v1.ResourceLogs.resource",
		"opentelemetry.proto.logs.v1.ResourceLogs.scope_logs",
		"opentelemetry.proto.logs.v1.ResourceLogs.schema_url",
		"opentelemetry.proto.resource.v1.Resource.attributes",
		"opentelemetry.proto.logs.v1.ScopeLogs.scope",
		"opentelemetry.proto.logs.v1.ScopeLogs.log_records",
		"opentelemetry.proto.logs.v1.ScopeLogs.schema_url",
		"opentelemetry.proto.common.v1.InstrumentationScope.name",
		"opentelemetry.proto.common.v1.InstrumentationScope.version",
		"opentelemetry.proto.common.v1.InstrumentationScope.attributes",
		"opentelemetry.proto.logs.v1.LogRecord.time_unix_nano",
		"opentelemetry.proto.logs.v1.LogRecord.observed_time_unix_nano",
		"opentelemetry.proto.logs.v1.LogRecord.severity_number",
		"opentelemetry.proto.logs.v1.LogRecord.severity_text",
		"opentelemetry.proto.logs.v1.LogRecord.body",
		"opentelemetry.proto.logs.v1.LogRecord.attributes",
		"opentelemetry.proto.logs.v1.LogRecord.dropped_attributes_count",
		"opentelemetry.proto.logs.v1.LogRecord.flags",
		"opentelemetry.proto.logs.v1.LogRecord.trace_id",
		"opentelemetry.proto.logs.v1.LogRecord.span_id",
		"opentelemetry.proto.logs.v1.LogRecord.event_name",
		"opentelemetry.proto.common.v1.KeyValue.key",
		"opentelemetry.proto.common.v1.KeyValue.value",
		"opentelemetry.proto.common.v1.AnyValue.string_value",
		"opentelemetry.proto.common.v1.AnyValue.bool_value",
		"opentelemetry.proto.common.v1.AnyValue.int_value",
		"opentelemetry.proto.common.v1.AnyValue.double_value",
		"opentelemetry.proto.common.v1.AnyValue.array_value",
		"opentelemetry.proto.common.v1.AnyValue.kvlist_value",
		"opentelemetry.proto.common.v1.AnyValue.bytes_value",
		"opentelemetry.proto.common.v1.ArrayValue.values",
		"opentelemetry.proto.common.v1.KeyValueList.values",
	}
	for _, name := range want {
		if !seen[name] {
			t.Errorf("no case sets %s", name)
		}
	}
}
