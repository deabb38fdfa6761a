package instrument_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/sdklogtest"
)

// TestUniqueKeys checks that a record never carries a key twice, even when
// the LoggerProvider does not de-duplicate (sdklog.WithAllowKeyDuplication,
// as otelaudit.New configures it): a handler's kwarg replaces the route
// wildcard or the earlier kwarg of the same key.
func TestUniqueKeys(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		path    string
		kwargs  [][2]string
		want    map[string]string // kwarg name -> value
	}{
		{"wildcard only", "GET /d/{id}/", "/d/7/", nil, map[string]string{"id": "7"}},
		{"handler replaces wildcard", "GET /d/{id}/", "/d/7/", [][2]string{{"id", "8"}}, map[string]string{"id": "8"}},
		{"non-ASCII wildcard and its safe name", "GET /d/{dätä}/", "/d/7/", [][2]string{{"d__t__", "8"}}, map[string]string{"d__t__": "8"}},
		{"two wildcards with one safe name", "GET /d/{ä}/{ö}/", "/d/1/2/", nil, map[string]string{"__": "2"}},
		{"kwarg added twice", "GET /d/", "/d/", [][2]string{{"x", "1"}, {"x", "2"}}, map[string]string{"x": "2"}},
		{"unsafe kwarg names meeting", "GET /d/", "/d/", [][2]string{{"a-b", "1"}, {"a.b", "2"}}, map[string]string{"a_b": "2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := &sdklogtest.Recorder{}
			lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(mem)), sdklog.WithAllowKeyDuplication())
			mux := http.NewServeMux()
			mux.HandleFunc(tt.pattern, func(w http.ResponseWriter, r *http.Request) {
				for _, kv := range tt.kwargs {
					instrument.AddKwarg(r.Context(), kv[0], kv[1])
				}
			})
			h := instrument.NewHandler(mux, instrument.WithLoggerProvider(lp))
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", tt.path, nil))
			if mem.Len() != 1 {
				t.Fatalf("%d records, want 1", mem.Len())
			}
			seen := map[attribute.Key]int{}
			got := map[string]string{}
			mem.Records()[0].WalkAttributes(func(kv attribute.KeyValue) bool {
				seen[kv.Key]++
				if name, ok := strings.CutPrefix(string(kv.Key), psono.KwargAttrPrefix); ok {
					got[name] = kv.Value.AsString()
				}
				return true
			})
			for k, n := range seen {
				if n > 1 {
					t.Errorf("key %s appears %d times", k, n)
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("kwargs %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("kwarg %s = %q, want %q (all: %v)", k, got[k], v, got)
				}
			}
		})
	}
}

// TestWriterFeatures checks that the middleware's response writer records
// the status however the handler answers, and still lets the handler flush,
// stream from a reader and hijack the connection.
func TestWriterFeatures(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		status  int
	}{
		{"flush first", func(w http.ResponseWriter, r *http.Request) {
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Error(err)
			}
			_, _ = io.WriteString(w, "x")
		}, 200},
		{"flusher interface", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusAccepted)
			w.(http.Flusher).Flush()
		}, 202},
		{"read from", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(w, strings.NewReader("streamed"))
		}, 200},
		{"informational then final", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusTeapot)
		}, 418},
		{"hijack", func(w http.ResponseWriter, r *http.Request) {
			c, buf, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = buf.WriteString("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
			_ = buf.Flush()
			_ = c.Close()
		}, 204},
		{"hijack, status line on the connection", func(w http.ResponseWriter, r *http.Request) {
			c, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n")
			_, _ = io.WriteString(c, "Connection: Upgrade\r\n\r\n")
			_ = c.Close()
		}, 101},
		{"invalid code: net/http panics, the client gets 500", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(1000)
		}, 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			records := &sdklogtest.Recorder{}
			lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(records))
			srv := httptest.NewServer(instrument.NewHandler(tt.handler, instrument.WithLoggerProvider(lp)))
			defer srv.Close()
			resp, err := http.Get(srv.URL + "/")
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("the client got %d, the test expects %d", resp.StatusCode, tt.status)
			}
			// A hijacked connection's handler may still be running: wait
			// for its record (srv.Close does not).
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			got, err := records.Wait(ctx, 1)
			if err != nil {
				t.Fatal("no record within 10s")
			}
			r := got[0]
			var status int64
			r.WalkAttributes(func(kv attribute.KeyValue) bool {
				if kv.Key == psono.Status.Attr {
					status = kv.Value.AsInt64()
				}
				return true
			})
			if status != int64(tt.status) {
				t.Errorf("recorded status %d, want %d", status, tt.status)
			}
		})
	}
}
