package instrument_test

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/otelaudit/otelaudit/exporter"
	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/sdklogtest"
)

// discardWriter is a reusable http.ResponseWriter that drops the response.
// httptest.ResponseRecorder costs about as much as otelhttp itself, so the
// benchmarks here do not use it.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(code int)        { w.status = code }

func (w *discardWriter) reset() {
	clear(w.h)
	w.status = 0
}

// benchMux serves the demo's busiest route the way the demo does: the
// handler names its logger, user and event and writes a small JSON body.
func benchMux() *http.ServeMux {
	body := []byte(`{"datastore_id":"bed4572d-6a28-4c00-94c2-dd45322de1d0","type":"password"}` + "\n")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /datastore/{datastore_id}/", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		instrument.SetLogger(ctx, "restapi.views.datastore")
		instrument.SetUser(ctx, "demo2@example.com", "ba504938-9a23-4162-867f-6840c301bc20")
		instrument.SetEvent(ctx, "LIST_DATASTORE_SUCCESS")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	return mux
}

func benchRequest(b *testing.B) *http.Request {
	r, err := http.NewRequest(http.MethodGet, "http://127.0.0.1:10200/datastore/bed4572d-6a28-4c00-94c2-dd45322de1d0/", nil)
	if err != nil {
		b.Fatal(err)
	}
	r.RemoteAddr = "10.10.10.145:51234"
	r.RequestURI = r.URL.RequestURI()
	return r
}

// BenchmarkHandler serves one request of the demo's busiest route, in
// process, through increasingly complete stacks, so that each layer's cost
// is the difference between two lines of the same run:
//
//	bare                      the ServeMux alone
//	otelhttp/noop             otelhttp with no-op tracer and meter providers
//	otelhttp/never-sample     otelhttp with an SDK tracer that samples nothing
//	                          (what otelaudit.New uses by default: trace ids,
//	                          no recorded span)
//	otelhttp/always-sample    otelhttp with an SDK tracer recording every span
//	audit/nop/...             the audit middleware (which includes otelhttp)
//	                          emitting into a do-nothing processor
//	audit/file-<durability>/… the audit middleware writing audit.log
//
// The sdk-dedup lines use the SDK's default attribute de-duplication; the
// others use sdklog.WithAllowKeyDuplication, as otelaudit.New does.
func BenchmarkHandler(b *testing.B) {
	never := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	always := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	b.Cleanup(func() {
		_ = never.Shutdown(context.Background())
		_ = always.Shutdown(context.Background())
	})
	tracers := []struct {
		name string
		tp   trace.TracerProvider
	}{{"never-sample", never}, {"always-sample", always}}
	otelhttpOpts := func(tp trace.TracerProvider) []otelhttp.Option {
		return []otelhttp.Option{otelhttp.WithTracerProvider(tp), otelhttp.WithMeterProvider(metricnoop.NewMeterProvider())}
	}

	run := func(b *testing.B, h http.Handler) {
		r := benchRequest(b)
		w := &discardWriter{h: http.Header{}}
		b.ReportAllocs()
		for b.Loop() {
			w.reset()
			h.ServeHTTP(w, r)
		}
		if w.status != 0 && w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}

	b.Run("bare", func(b *testing.B) { run(b, benchMux()) })
	b.Run("otelhttp/noop", func(b *testing.B) {
		run(b, otelhttp.NewHandler(benchMux(), "http.server", otelhttpOpts(tracenoop.NewTracerProvider())...))
	})
	for _, t := range tracers {
		b.Run("otelhttp/"+t.name, func(b *testing.B) {
			run(b, otelhttp.NewHandler(benchMux(), "http.server", otelhttpOpts(t.tp)...))
		})
	}
	for _, t := range tracers {
		for _, dedup := range []bool{false, true} {
			name := "audit/nop/" + t.name
			lpOpts := []sdklog.LoggerProviderOption{sdklog.WithProcessor(sdklogtest.Nop{})}
			if dedup {
				name += "/sdk-dedup"
			} else {
				lpOpts = append(lpOpts, sdklog.WithAllowKeyDuplication())
			}
			b.Run(name, func(b *testing.B) {
				lp := sdklog.NewLoggerProvider(lpOpts...)
				run(b, instrument.NewHandler(benchMux(), instrument.WithLoggerProvider(lp), instrument.WithHostName("0a5048185933"),
					instrument.WithOTelHTTPOptions(otelhttpOpts(t.tp)...)))
			})
		}
	}
	for _, d := range []exporter.Durability{exporter.Buffered, exporter.Write} {
		for _, t := range tracers {
			b.Run("audit/file-"+d.String()+"/"+t.name, func(b *testing.B) {
				f, err := exporter.NewFile(filepath.Join(b.TempDir(), "audit.log"), exporter.WithDurability(d))
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = f.Shutdown(context.Background()) })
				lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(f), sdklog.WithAllowKeyDuplication())
				run(b, instrument.NewHandler(benchMux(), instrument.WithLoggerProvider(lp), instrument.WithHostName("0a5048185933"),
					instrument.WithOTelHTTPOptions(otelhttpOpts(t.tp)...)))
			})
		}
	}
}

// BenchmarkSDKEmit is the bare OpenTelemetry SDK path the middleware rides
// on: building a log.Record with the 12 attributes of a typical audit record
// and emitting it into a do-nothing processor, with the SDK's default key
// de-duplication and without it.
func BenchmarkSDKEmit(b *testing.B) {
	attrs := []attribute.KeyValue{
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
		attribute.String("audit.extra", "x"),
	}
	for _, c := range []struct {
		name string
		opts []sdklog.LoggerProviderOption
	}{
		{"dedup", nil},
		{"allow-duplicates", []sdklog.LoggerProviderOption{sdklog.WithAllowKeyDuplication()}},
	} {
		b.Run(c.name, func(b *testing.B) {
			lp := sdklog.NewLoggerProvider(append(c.opts, sdklog.WithProcessor(sdklogtest.Nop{}))...)
			logger := lp.Logger(instrument.ScopeName)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				var r log.Record
				now := time.Now()
				r.SetTimestamp(now)
				r.SetObservedTimestamp(now)
				r.SetSeverity(log.SeverityInfo)
				r.SetEventName("LIST_DATASTORE_SUCCESS")
				r.AddAttributes(attrs...)
				logger.Emit(ctx, r)
			}
		})
	}
}
