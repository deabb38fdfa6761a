package instrument_test

import (
	"context"
	"io"
	stdlog "log"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelaudit/otelaudit/exporter"
	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/sdklogtest"
)

func attrs(r sdklog.Record) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	r.WalkAttributes(func(kv attribute.KeyValue) bool { m[kv.Key] = kv.Value; return true })
	return m
}

func newMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /datastore/{datastore_id}/", func(w http.ResponseWriter, r *http.Request) {
		instrument.SetUser(r.Context(), "demo2@example.com", "ba504938-9a23-4162-867f-6840c301bc20")
		instrument.AddKwarg(r.Context(), "extra", "x")
	})
	mux.HandleFunc("GET /panic/", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	mux.HandleFunc("GET /created/", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })
	return mux
}

// TestRecord checks the record of an ordinary request: attributes, default
// event and logger, severity, trace and span ids.
func TestRecord(t *testing.T) {
	mem := &sdklogtest.Recorder{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(mem)))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	h := instrument.NewHandler(newMux(), instrument.WithLoggerProvider(lp), instrument.WithHostName("h1"),
		instrument.WithOTelHTTPOptions(otelhttp.WithTracerProvider(tp)))
	srv := httptest.NewServer(h)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/datastore/bed4572d/?secret=token")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if mem.Len() != 1 {
		t.Fatalf("%d records, want 1", mem.Len())
	}
	r := mem.Records()[0]
	if r.EventName() != "GET_DATASTORE_DATASTORE_ID_SUCCESS" || r.Severity() != log.SeverityInfo || r.Timestamp().IsZero() {
		t.Errorf("event %q severity %v time %v", r.EventName(), r.Severity(), r.Timestamp())
	}
	if !r.TraceID().IsValid() || !r.SpanID().IsValid() {
		t.Errorf("record has no trace/span id: %v %v", r.TraceID(), r.SpanID())
	}
	want := map[attribute.Key]attribute.Value{
		psono.Logger.Attr:               attribute.StringValue(instrument.DefaultLogger),
		psono.UserIP.Attr:               attribute.StringValue("127.0.0.1"),
		psono.ReqMethod.Attr:            attribute.StringValue("GET"),
		psono.ReqURL.Attr:               attribute.StringValue("/datastore/bed4572d/"),
		psono.Success.Attr:              attribute.BoolValue(true),
		psono.Hostname.Attr:             attribute.StringValue("h1"),
		psono.Status.Attr:               attribute.IntValue(200),
		psono.User.Attr:                 attribute.StringValue("demo2@example.com"),
		psono.UserID.Attr:               attribute.StringValue("ba504938-9a23-4162-867f-6840c301bc20"),
		psono.KwargAttr("datastore_id"): attribute.StringValue("bed4572d"),
		psono.KwargAttr("extra"):        attribute.StringValue("x"),
		psono.Route:                     attribute.StringValue("GET /datastore/{datastore_id}/"),
	}
	got := attrs(r)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k].String(), v.String())
		}
	}
	if len(got) != len(want) {
		t.Errorf("record has %d attributes, want %d: %v", len(got), len(want), got)
	}
	for _, v := range got {
		if strings.Contains(v.String(), "secret") {
			t.Errorf("query string leaked into the record: %v", v.String())
		}
	}
}

// TestStatuses checks that requests nobody handles, refused methods, panics
// and non-200 successes all produce exactly one record with the right status.
func TestStatuses(t *testing.T) {
	mem := &sdklogtest.Recorder{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(mem)))
	h := instrument.NewHandler(newMux(), instrument.WithLoggerProvider(lp), instrument.WithErrorLog(func(error) {}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	tests := []struct {
		method, path string
		status       int
		event        string
		sev          log.Severity
	}{
		{"GET", "/nowhere", 404, "REQUEST_ERROR", log.SeverityWarn},
		{"POST", "/created/", 405, "REQUEST_ERROR", log.SeverityWarn},
		{"GET", "/panic/", 500, "GET_PANIC_ERROR", log.SeverityWarn},
		{"GET", "/created/", 201, "GET_CREATED_SUCCESS", log.SeverityInfo},
	}
	for i, tt := range tests {
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%s %s answered %d, want %d", tt.method, tt.path, resp.StatusCode, tt.status)
		}
		if mem.Len() != i+1 {
			t.Fatalf("%s %s: %d records, want %d", tt.method, tt.path, mem.Len(), i+1)
		}
		r := mem.Records()[i]
		if a := attrs(r); a[psono.Status.Attr].AsInt64() != int64(tt.status) || r.EventName() != tt.event || r.Severity() != tt.sev {
			t.Errorf("%s %s: status %v event %s severity %v, want %d %s %v", tt.method, tt.path, a[psono.Status.Attr].String(), r.EventName(), r.Severity(), tt.status, tt.event, tt.sev)
		}
	}
}

// FuzzHostileValues sends arbitrary paths, user names and kwarg names and
// values through the middleware into a real audit.log and checks that each
// request gives exactly one line holding exactly the expected keys, in
// order, with the values the request carried.
func FuzzHostileValues(f *testing.F) {
	f.Add("/share/x, user=admin/", "evil\nuser=admin", "k, kwarg_a=b", "v\r\n2020-01-01T00:00:00 logger=forged")
	f.Add("/share/\"q\"\\/", "\u2028\u2029\u0085", "=", "\xff\xfe")
	f.Add("/share/%0a/", "a\tb", "name with space", `"`)
	f.Fuzz(func(t *testing.T, path, user, kwName, kwValue string) {
		dir := t.TempDir()
		file, err := exporter.NewFile(filepath.Join(dir, "audit.log"))
		if err != nil {
			t.Fatal(err)
		}
		lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(file)))
		mux := http.NewServeMux()
		mux.HandleFunc("/share/{share_id}/", func(w http.ResponseWriter, r *http.Request) {
			instrument.SetUser(r.Context(), user, "id")
			instrument.AddKwarg(r.Context(), kwName, kwValue)
		})
		h := instrument.NewHandler(mux, instrument.WithLoggerProvider(lp), instrument.WithHostName("h"))
		req := httptest.NewRequest("GET", "/", nil)
		req.URL.Path = path
		req.URL.RawPath = ""
		h.ServeHTTP(httptest.NewRecorder(), req)
		if err := lp.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(file.Path())
		if err != nil {
			t.Fatal(err)
		}
		text := string(data)
		if strings.Count(text, "\n") != 1 || !strings.HasSuffix(text, "\n") {
			t.Fatalf("want exactly one line, got %q", text)
		}
		l, err := psono.Parse(strings.TrimSuffix(text, "\n"))
		if err != nil {
			t.Fatalf("Parse(%q): %v", text, err)
		}
		var keys []string
		for _, p := range l.Pairs {
			keys = append(keys, p.Key)
		}
		wantKeys := []string{"logger", "user_ip", "req_method", "req_url", "success", "hostname", "status", "event"}
		status, _ := l.Get("status")
		routed := status == "HTTP_200_OK" // ServeMux redirects unclean paths
		if routed {
			wantKeys = append(wantKeys, "user", "user_id", "kwarg_share_id")
			if name := safe(kwName); name != "share_id" {
				wantKeys = append(wantKeys, "kwarg_"+name)
			}
		}
		if !slices.Equal(keys, wantKeys) {
			t.Fatalf("keys %v, want %v; line %q", keys, wantKeys, text)
		}
		if got, _ := l.Get("req_url"); !same(got, path) {
			t.Fatalf("req_url = %q, want %q", got, path)
		}
		if routed {
			if got, _ := l.Get("user"); !same(got, user) {
				t.Fatalf("user = %q, want %q", got, user)
			}
			if name := safe(kwName); name != "share_id" {
				if got, _ := l.Get("kwarg_" + name); !same(got, kwValue) {
					t.Fatalf("kwarg = %q, want %q", got, kwValue)
				}
			}
		}
	})
}

// same reports whether got is sent, or sent cut to the value limit and
// marked.
func same(got, sent string) bool {
	if len(sent) <= instrument.DefaultMaxValueLength {
		return got == sent
	}
	prefix, ok := strings.CutSuffix(got, instrument.TruncatedMark)
	return ok && len(got) <= instrument.DefaultMaxValueLength && strings.HasPrefix(sent, prefix)
}

// safe mirrors the documented mapping of AddKwarg names into the safe
// alphabet.
func safe(name string) string {
	if name == "" {
		return "_"
	}
	if len(name) > 64 {
		name = name[:64]
	}
	b := []byte(name)
	for i, c := range b {
		if !psono.ValidKwargName(string(c)) {
			b[i] = '_'
		}
	}
	return string(b)
}

// TestPanicAfterStatus checks that the record of a handler that panics
// carries the status the client got: 500 when the handler had written
// nothing, else the status the handler had written, which the client gets
// with whatever body was written before the connection is cut. The panic is
// reported either way, unless it is http.ErrAbortHandler.
func TestPanicAfterStatus(t *testing.T) {
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		status   int    // what the client gets and the record says
		body     string // what the client reads
		cut      bool   // whether reading the body fails: the connection was cut
		reported bool   // whether the panic reached WithErrorLog
		noFlush  bool   // the middleware gets a ResponseWriter that cannot flush
	}{
		{"nothing written", func(w http.ResponseWriter, r *http.Request) {
			panic("boom")
		}, 500, "Internal Server Error\n", false, true, false},
		{"complete body per Content-Length", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "5")
			_, _ = io.WriteString(w, "hello")
			panic("after the body")
		}, 200, "hello", false, true, false},
		{"status only", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusForbidden)
			panic("after the status")
		}, 403, "", true, true, false},
		{"part of a chunked body", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "part")
			panic("in the body")
		}, 200, "part", true, true, false},
		{"after a hijack and a status line", func(w http.ResponseWriter, r *http.Request) {
			c, buf, err := http.NewResponseController(w).Hijack()
			if err != nil {
				panic(err)
			}
			defer c.Close()
			_, _ = buf.WriteString("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
			_ = buf.Flush()
			panic("after the hijack")
		}, 204, "", false, true, false},
		{"ErrAbortHandler after the status", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "10")
			_, _ = io.WriteString(w, "part")
			panic(http.ErrAbortHandler)
		}, 200, "part", true, false, false},
		// The middleware cannot send what was written and then cut the
		// response: it lets the response complete, with the status.
		{"part of a body, writer without Flush", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "part")
			panic("in the body")
		}, 200, "part", false, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			records := &sdklogtest.Recorder{}
			lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(records))
			var mu sync.Mutex
			var reports []error
			h := instrument.NewHandler(tt.handler, instrument.WithLoggerProvider(lp),
				instrument.WithErrorLog(func(err error) { mu.Lock(); reports = append(reports, err); mu.Unlock() }))
			if tt.noFlush {
				inner := h
				h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					inner.ServeHTTP(struct{ http.ResponseWriter }{w}, r)
				})
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			srv.Config.ErrorLog = stdlog.New(io.Discard, "", 0)

			resp, err := srv.Client().Get(srv.URL + "/")
			if err != nil {
				t.Fatalf("the client got no response: %v", err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || string(body) != tt.body || (err != nil) != tt.cut {
				t.Errorf("the client got %d %q (read error %v); the test expects %d %q (cut: %v)",
					resp.StatusCode, body, err, tt.status, tt.body, tt.cut)
			}

			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			got, err := records.Wait(ctx, 1)
			if err != nil {
				t.Fatal("no record within 10s")
			}
			a := attrs(got[0])
			success := tt.status >= 200 && tt.status < 300
			event := "REQUEST_ERROR"
			if success {
				event = "REQUEST_SUCCESS"
			}
			if a[psono.Status.Attr].AsInt64() != int64(tt.status) || a[psono.Success.Attr].AsBool() != success || got[0].EventName() != event {
				t.Errorf("record: status %v success %v event %s; want %d %v %s",
					a[psono.Status.Attr].AsInt64(), a[psono.Success.Attr].AsBool(), got[0].EventName(), tt.status, success, event)
			}
			mu.Lock()
			defer mu.Unlock()
			if (len(reports) > 0) != tt.reported {
				t.Errorf("panic reports %v; want reported: %v", reports, tt.reported)
			}
		})
	}
}

// TestMuxRedirect checks that a redirect ServeMux makes itself (to add a
// trailing slash, to clean a path) is recorded as a request no route served:
// REQUEST_ERROR without the route's kwargs, whether NewHandler wraps the mux
// directly or Routes reports it, and that routes matching with a trailing
// wildcard keep their event.
func TestMuxRedirect(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /datastore/{datastore_id}/", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/share/{share_id}/", func(w http.ResponseWriter, r *http.Request) {}) // every method, CONNECT too
	mux.HandleFunc("GET /exact/{id}/{$}", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /files/", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /rest/{path...}", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /plain/{id}", func(w http.ResponseWriter, r *http.Request) {})

	const redirect = http.StatusTemporaryRedirect
	tests := []struct {
		method, target string
		status         int
		event          string
		kwargs         map[string]string
	}{
		{"GET", "/datastore/X", redirect, "REQUEST_ERROR", nil},
		{"GET", "/datastore/X/", 200, "GET_DATASTORE_DATASTORE_ID_SUCCESS", map[string]string{"datastore_id": "X"}},
		{"GET", "/datastore/a/../X/", redirect, "REQUEST_ERROR", nil},
		{"GET", "/datastore//X/", redirect, "REQUEST_ERROR", nil},
		{"GET", "/share/abc", redirect, "REQUEST_ERROR", nil},
		// For CONNECT ServeMux sets Pattern to the path it redirects to,
		// which the client chose: never an event.
		{"CONNECT", "/share/abc", redirect, "REQUEST_ERROR", nil},
		{"CONNECT", "/share/.", redirect, "REQUEST_ERROR", nil}, // Pattern "/share/"
		{"GET", "/exact/7", redirect, "REQUEST_ERROR", nil},
		{"GET", "/exact/7/", 200, "GET_EXACT_ID_SUCCESS", map[string]string{"id": "7"}},
		{"GET", "/files", redirect, "REQUEST_ERROR", nil},
		{"GET", "/files/a/b", 200, "GET_FILES_SUCCESS", nil},
		{"GET", "/rest", redirect, "REQUEST_ERROR", nil},
		{"GET", "/rest/a/b", 200, "GET_REST_PATH_SUCCESS", map[string]string{"path": "a/b"}},
		{"GET", "/plain/7", 200, "GET_PLAIN_ID_SUCCESS", map[string]string{"id": "7"}},
	}
	wrappers := []struct {
		name string
		wrap func(http.Handler) http.Handler
	}{
		{"ServeMux wrapped directly", func(h http.Handler) http.Handler { return h }},
		{"Routes behind middleware", func(h http.Handler) http.Handler {
			inner := instrument.Routes(h)
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				inner.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), middlewareKey{}, 1)))
			})
		}},
	}
	for _, wr := range wrappers {
		for _, tt := range tests {
			t.Run(wr.name+" "+tt.method+" "+tt.target, func(t *testing.T) {
				mem := &sdklogtest.Recorder{}
				lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(mem)))
				h := instrument.NewHandler(wr.wrap(mux), instrument.WithLoggerProvider(lp))
				req := httptest.NewRequest(tt.method, tt.target, nil)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != tt.status {
					t.Fatalf("ServeMux answered %d, the test expects %d", rec.Code, tt.status)
				}
				if mem.Len() != 1 {
					t.Fatalf("%d records, want 1", mem.Len())
				}
				r := mem.Records()[0]
				got := map[string]string{}
				for k, v := range attrs(r) {
					if name, ok := strings.CutPrefix(string(k), psono.KwargAttrPrefix); ok {
						got[name] = v.AsString()
					}
				}
				route, routed := attrs(r)[psono.Route]
				if r.EventName() != tt.event || !maps.Equal(got, tt.kwargs) || routed != (tt.status == 200) {
					t.Errorf("event %s kwargs %v route %q; want %s %v (routed: %v)", r.EventName(), got, route.AsString(), tt.event, tt.kwargs, tt.status == 200)
				}
			})
		}
	}
}

// middlewareKey is the context key of a middleware in front of the mux.
type middlewareKey struct{}
