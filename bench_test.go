package otelaudit_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/otelaudit/otelaudit"
	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/exporter"
	"github.com/otelaudit/otelaudit/instrument"
)

// benchWriter is a reusable http.ResponseWriter that drops the response.
type benchWriter struct{ h http.Header }

func (w *benchWriter) Header() http.Header         { return w.h }
func (w *benchWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *benchWriter) WriteHeader(int)             {}

// BenchmarkAuditor serves the demo's busiest request in process through the
// Handler of otelaudit.New, exactly as the demo builds it: with
// LOGGING_AUDIT off (otelhttp and the never-sampling tracer only) and on,
// with each durability. The difference between off and on is what audit
// logging adds to a request; lines/s is the rate one goroutine sustains.
func BenchmarkAuditor(b *testing.B) {
	body := []byte(`{"id":"bed4572d-6a28-4c00-94c2-dd45322de1d0","type":"password"}` + "\n")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /datastore/{datastore_id}/", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		instrument.SetLogger(ctx, "restapi.views.datastore")
		instrument.SetUser(ctx, "demo2@example.com", "ba504938-9a23-4162-867f-6840c301bc20")
		instrument.SetEvent(ctx, "LIST_DATASTORE_SUCCESS")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	for _, c := range []struct {
		name       string
		enabled    bool
		durability exporter.Durability
	}{
		{"off", false, exporter.Write},
		{"on/buffered", true, exporter.Buffered},
		{"on/write", true, exporter.Write},
		{"on/fsync", true, exporter.Sync},
	} {
		b.Run(c.name, func(b *testing.B) {
			s := config.Default()
			s.Enabled, s.Durability, s.Folder = c.enabled, c.durability, b.TempDir()
			a, err := otelaudit.New(s, otelaudit.WithHostName("0a5048185933"))
			if err != nil {
				b.Fatal(err)
			}
			h := a.Handler(mux)
			r, err := http.NewRequest("GET", "http://127.0.0.1:10200/datastore/bed4572d-6a28-4c00-94c2-dd45322de1d0/", nil)
			if err != nil {
				b.Fatal(err)
			}
			r.RemoteAddr = "10.10.10.145:51234"
			w := &benchWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, r)
			}
			b.StopTimer()
			if err := a.Shutdown(context.Background()); err != nil {
				b.Fatal(err)
			}
			if s := b.Elapsed().Seconds(); s > 0 {
				b.ReportMetric(float64(b.N)/s, "req/s")
			}
		})
	}
}
