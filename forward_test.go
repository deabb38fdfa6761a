package otelaudit_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/otelaudit/otelaudit"
	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/sdklogtest"
)

// hangingCollector accepts connections and reads from them but never
// answers: a collector that is stuck.
func hangingCollector(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, c) }()
		}
	}()
	return ln.Addr().String()
}

// refusingAddr returns a loopback address where nothing listens.
func refusingAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestForwardingCollectorUnavailable runs the pipeline with OTLP forwarding
// to a collector that hangs, and to one that refuses connections, over both
// protocols: every line is in audit.log when its response arrives, Shutdown
// returns within its bound instead of the exporter's one-minute retry, and
// every forwarded record that was lost is counted.
func TestForwardingCollectorUnavailable(t *testing.T) {
	for _, tc := range []struct{ name, proto, addr string }{
		{"http hanging", "http/protobuf", hangingCollector(t)},
		{"grpc hanging", "grpc", hangingCollector(t)},
		{"http refused", "http/protobuf", refusingAddr(t)},
		{"grpc refused", "grpc", refusingAddr(t)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+tc.addr)
			t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", tc.proto)
			t.Setenv("OTEL_EXPORTER_OTLP_INSECURE", "true")
			s := config.Default()
			// The in-memory queue gives up what it cannot deliver; the
			// spool keeps it (TestShutdownWithExpiredContext).
			s.Enabled, s.Folder, s.ForwardQueue = true, t.TempDir(), "memory"
			a, err := otelaudit.New(s, otelaudit.WithForwardShutdownTimeout(300*time.Millisecond), otelaudit.WithErrorLog(func(error) {}))
			if err != nil {
				t.Fatal(err)
			}
			mux := http.NewServeMux()
			mux.HandleFunc("/x/{n}/", func(w http.ResponseWriter, r *http.Request) { instrument.SetEvent(r.Context(), "X_SUCCESS") })
			srv := httptest.NewServer(a.Handler(mux))
			const n = 300
			for i := range n {
				resp, err := http.Get(fmt.Sprintf("%s/x/%d/", srv.URL, i))
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if got := countLines(t, s.LogPath()); got != i+1 {
					t.Fatalf("after response %d audit.log has %d lines", i+1, got)
				}
			}
			srv.Close()
			start := time.Now()
			if err := a.Shutdown(context.Background()); err != nil && !strings.Contains(err.Error(), "context") {
				t.Logf("shutdown: %v", err)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("Shutdown took %v with a 300ms forwarding bound", d)
			}
			if got := a.ForwardDropped(); got != n {
				t.Errorf("ForwardDropped = %d, want all %d counted", got, n)
			}
			data, _ := os.ReadFile(s.LogPath())
			if got := strings.Count(string(data), "\n"); got != n {
				t.Errorf("audit.log has %d lines, want %d", got, n)
			}
		})
	}
}

// TestForwardedRecordsAreValidUTF8 sends a path with bytes of invalid UTF-8:
// the forwarded record carries U+FFFD in their place (an OTLP exporter
// would refuse the whole batch otherwise), audit.log the exact bytes.
func TestForwardedRecordsAreValidUTF8(t *testing.T) {
	s := config.Default()
	s.Enabled, s.Folder = true, t.TempDir()
	exp := &sdklogtest.Recorder{}
	a, err := otelaudit.New(s, otelaudit.WithForwardExporter(exp))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler(http.NewServeMux()))
	for _, p := range []string{"/ok/%C3%A9", "/bad/%FF%FEx%C3"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	srv.Close()
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, r := range exp.Records() {
		r.WalkAttributes(func(kv attribute.KeyValue) bool {
			if kv.Key == psono.ReqURL.Attr {
				paths = append(paths, kv.Value.AsString())
			}
			return true
		})
	}
	if want := []string{"/ok/é", "/bad/\uFFFDx\uFFFD"}; !slices.Equal(paths, want) {
		t.Errorf("forwarded paths %q, want %q", paths, want)
	}
	data, _ := os.ReadFile(s.LogPath())
	if !strings.Contains(string(data), `req_url="/bad/\xff\xfex\xc3"`) {
		t.Errorf("audit.log does not keep the exact bytes:\n%s", data)
	}
}
