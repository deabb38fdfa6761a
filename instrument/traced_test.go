package instrument_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/sdklogtest"
)

// TestTracedOnce: a service that already traces with otelhttp in front of
// the audit handler gets one span per request, not two, and the record
// carries it; without one in front, the audit handler makes the span.
func TestTracedOnce(t *testing.T) {
	for _, c := range []struct {
		name      string
		outer     bool // the service's own otelhttp in front
		outerTP   bool // … with a tracer provider that records (not the global no-op)
		wantSpans int
	}{
		{"alone", false, false, 1},
		{"behind otelhttp", true, true, 1},
		{"behind otelhttp that traces nothing", true, false, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			spans := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
			mem := &sdklogtest.Recorder{}
			lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(mem)))
			var h http.Handler = instrument.NewHandler(newMux(), instrument.WithLoggerProvider(lp),
				instrument.WithOTelHTTPOptions(otelhttp.WithTracerProvider(tp)))
			if c.outer {
				var opts []otelhttp.Option
				if c.outerTP {
					opts = append(opts, otelhttp.WithTracerProvider(tp))
				}
				h = otelhttp.NewHandler(h, "service", opts...)
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			resp, err := http.Get(srv.URL + "/datastore/bed4572d/")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()

			ended := spans.Ended()
			if len(ended) != c.wantSpans {
				t.Fatalf("%d spans, want %d", len(ended), c.wantSpans)
			}
			if mem.Len() != 1 {
				t.Fatalf("%d records, want 1", mem.Len())
			}
			r := mem.Records()[0]
			if sc := ended[0].SpanContext(); r.TraceID() != sc.TraceID() || r.SpanID() != sc.SpanID() {
				t.Errorf("record carries %v/%v, the request's span is %v/%v", r.TraceID(), r.SpanID(), sc.TraceID(), sc.SpanID())
			}
			if c.outer && c.outerTP && ended[0].Name() == "" {
				t.Error("the span has no name")
			}
		})
	}
}
