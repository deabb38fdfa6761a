package otelaudit_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otelaudit/otelaudit"
	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/exporter"
	"github.com/otelaudit/otelaudit/instrument"
)

// TestShutdownWithExpiredContext: an http.Server.Shutdown that used up a
// shared deadline hands the auditor an expired context. Every record emitted
// before Shutdown must still reach audit.log (buffered durability holds them
// in memory), and what the forwarder (a collector that never answers) could
// not deliver is counted and reported, to the record.
func TestShutdownWithExpiredContext(t *testing.T) {
	for _, tc := range []struct {
		forwarding bool
		queue      string
	}{{false, "spool"}, {true, "memory"}, {true, "spool"}} {
		forwarding := tc.forwarding
		t.Run(fmt.Sprintf("forwarding=%v/%s", forwarding, tc.queue), func(t *testing.T) {
			if forwarding {
				t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+hangingCollector(t))
				t.Setenv("OTEL_EXPORTER_OTLP_INSECURE", "true")
			}
			s := config.Default()
			s.Enabled, s.Folder, s.Durability, s.ForwardQueue = true, t.TempDir(), exporter.Buffered, tc.queue
			var mu sync.Mutex
			var reports []string
			a, err := otelaudit.New(s, otelaudit.WithErrorLog(func(err error) {
				mu.Lock()
				reports = append(reports, err.Error())
				mu.Unlock()
			}))
			if err != nil {
				t.Fatal(err)
			}
			mux := http.NewServeMux()
			mux.HandleFunc("/x/{n}/", func(w http.ResponseWriter, r *http.Request) { instrument.SetEvent(r.Context(), "X_SUCCESS") })
			srv := httptest.NewServer(a.Handler(mux))
			const n = 20
			for i := range n {
				resp, err := http.Get(fmt.Sprintf("%s/x/%d/", srv.URL, i))
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			}
			srv.Close()

			ctx, cancel := context.WithCancel(context.Background())
			cancel() // the deadline was used up by the server's drain
			start := time.Now()
			_ = a.Shutdown(ctx)
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("Shutdown with an expired context took %v", d)
			}
			if got := countLines(t, s.LogPath()); got != n {
				t.Errorf("audit.log has %d lines after Shutdown with an expired context, want %d", got, n)
			}
			if !forwarding {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if tc.queue == "spool" {
				// Nothing is lost: what the collector did not take stays
				// in the spool for the next start, and Shutdown says so.
				if got := a.ForwardDropped(); got != 0 {
					t.Errorf("ForwardDropped = %d, want 0 (the spool keeps them)", got)
				}
				if !strings.Contains(strings.Join(reports, "\n"), fmt.Sprintf("%d audit record(s) stay in the forwarding spool", n)) {
					t.Errorf("reports %q do not say that %d records stay in the spool", reports, n)
				}
				return
			}
			if got := a.ForwardDropped(); got != n {
				t.Errorf("ForwardDropped = %d, want %d", got, n)
			}
			reported := 0
			for _, r := range reports {
				var k int
				if _, err := fmt.Sscanf(r, "otelaudit: %d ", &k); err == nil && strings.Contains(r, "not forwarded") {
					reported += k
				}
			}
			if reported != n {
				t.Errorf("reports say %d records were not forwarded, want %d: %q", reported, n, reports)
			}
		})
	}
}

// TestForwardShutdownBound: against a collector that never answers,
// Shutdown ends within the forwarding bound, the exporter's own shutdown
// included.
func TestForwardShutdownBound(t *testing.T) {
	for _, proto := range []string{"http/protobuf", "grpc"} {
		t.Run(proto, func(t *testing.T) {
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+hangingCollector(t))
			t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", proto)
			t.Setenv("OTEL_EXPORTER_OTLP_INSECURE", "true")
			s := config.Default()
			s.Enabled, s.Folder = true, t.TempDir()
			const bound = time.Second
			a, err := otelaudit.New(s, otelaudit.WithForwardShutdownTimeout(bound), otelaudit.WithErrorLog(func(error) {}))
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(a.Handler(http.NewServeMux()))
			for range 50 {
				resp, err := http.Get(srv.URL + "/")
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			}
			srv.Close()
			start := time.Now()
			_ = a.Shutdown(context.Background())
			// The bound plus what the scheduler of a busy two-core machine
			// may add; the exporter's own shutdown used to add a second.
			if d := time.Since(start); d > bound+400*time.Millisecond {
				t.Errorf("Shutdown took %v with a %v forwarding bound", d, bound)
			}
		})
	}
}
