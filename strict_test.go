package otelaudit_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/otelaudit/otelaudit"
	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/instrument"
)

// strictServer serves mux through a strict-mode Auditor writing to a new
// folder.
func strictServer(t *testing.T, mux http.Handler, adjust func(*config.Settings)) (*otelaudit.Auditor, *httptest.Server, config.Settings) {
	t.Helper()
	s := config.Default()
	s.Enabled, s.Strict, s.Folder = true, true, t.TempDir()
	if adjust != nil {
		adjust(&s)
	}
	a, err := otelaudit.New(s, otelaudit.WithErrorLog(func(error) {}))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler(mux))
	t.Cleanup(func() { srv.Close(); _ = a.Shutdown(context.Background()) })
	return a, srv, s
}

// TestStrictAfterShutdown: once the Auditor is shut down nothing can be
// audited, so strict mode refuses every request, handler not run.
func TestStrictAfterShutdown(t *testing.T) {
	var calls sync.Map
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { calls.Store(r.URL.Path, true) })
	a, srv, _ := strictServer(t, mux, nil)
	if code, _, _ := get(t, srv.URL+"/before"); code != 200 {
		t.Fatalf("before Shutdown: %d", code)
	}
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := get(t, srv.URL+"/after"); code != http.StatusServiceUnavailable {
		t.Errorf("after Shutdown strict mode answered %d, want 503", code)
	}
	if _, ran := calls.Load("/after"); ran {
		t.Error("the handler ran after Shutdown")
	}
}

// TestStrictHeldBounds: strict mode holds at most
// LOGGING_AUDIT_STRICT_MAX_RESPONSE bytes of one response and
// LOGGING_AUDIT_STRICT_MAX_HELD of all together; past that the handler's
// Write fails, the client gets 503 and the record says 503.
func TestStrictHeldBounds(t *testing.T) {
	release := make(chan struct{})
	holding := make(chan struct{}, 8)
	mux := http.NewServeMux()
	mux.HandleFunc("/size/{n}", func(w http.ResponseWriter, r *http.Request) {
		n := len(r.PathValue("n")) * 1000 // /size/xxx: 3000 bytes
		if _, err := w.Write(make([]byte, n)); err != nil {
			instrument.AddKwarg(r.Context(), "write_error", "yes")
		}
	})
	mux.HandleFunc("/hold", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(make([]byte, 4000))
		holding <- struct{}{}
		<-release
	})
	_, srv, s := strictServer(t, mux, func(s *config.Settings) {
		s.StrictMaxResponse, s.StrictMaxHeld = 5000, 9000
	})

	if code, body, _ := get(t, srv.URL+"/size/xxx"); code != 200 || len(body) != 3000 {
		t.Errorf("a 3000-byte response: %d, %d bytes; want 200 and all of it", code, len(body))
	}
	if code, body, _ := get(t, srv.URL+"/size/xxxxxx"); code != http.StatusServiceUnavailable || len(body) >= 6000 {
		t.Errorf("a 6000-byte response over the 5000-byte bound: %d, %d bytes; want 503", code, len(body))
	}
	// Two held responses of 4000 bytes fill 8000 of the 9000 bytes; a third
	// one's write passes the total.
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { _, _, _ = get(t, srv.URL+"/hold") })
	}
	<-holding
	<-holding
	if code, _, _ := get(t, srv.URL+"/size/xxx"); code != http.StatusServiceUnavailable {
		t.Errorf("a response past the total bound: %d, want 503", code)
	}
	close(release)
	wg.Wait()
	if code, _, _ := get(t, srv.URL+"/size/xxx"); code != 200 {
		t.Errorf("after the held responses were sent: %d, want 200 (the total was given back)", code)
	}

	lines := auditLines(t, s.LogPath())
	var unavailable int
	for _, l := range lines {
		if strings.Contains(l, "status=HTTP_503_SERVICE_UNAVAILABLE") {
			unavailable++
			if !strings.Contains(l, "kwarg_write_error=yes") || !strings.Contains(l, "success=False") {
				t.Errorf("a refused response's line: %s", l)
			}
		}
	}
	if unavailable != 2 {
		t.Errorf("%d lines say 503, want 2:\n%s", unavailable, strings.Join(lines, "\n"))
	}
}

// TestStrictHandlerStatus: in strict mode a handler's own 403 or 500 (with
// and without a body) reaches the client as it was written, and the record
// says the same status, never 200 or the 503 of a refusal.
func TestStrictHandlerStatus(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/status/{code}/{body}/", func(w http.ResponseWriter, r *http.Request) {
		instrument.SetEvent(r.Context(), "STATUS_"+r.PathValue("code"))
		code := map[string]int{"403": http.StatusForbidden, "500": http.StatusInternalServerError, "201": http.StatusCreated}[r.PathValue("code")]
		if r.PathValue("body") == "error" {
			http.Error(w, "handler says "+r.PathValue("code"), code)
			return
		}
		w.WriteHeader(code)
	})
	a, srv, s := strictServer(t, mux, nil)
	tests := []struct {
		path, status string
		code         int
		success      string
	}{
		{"/status/403/error/", "HTTP_403_FORBIDDEN", 403, "False"},
		{"/status/403/none/", "HTTP_403_FORBIDDEN", 403, "False"},
		{"/status/500/error/", "HTTP_500_INTERNAL_SERVER_ERROR", 500, "False"},
		{"/status/500/none/", "HTTP_500_INTERNAL_SERVER_ERROR", 500, "False"},
		{"/status/201/none/", "HTTP_201_CREATED", 201, "True"},
	}
	for _, tt := range tests {
		code, body, _ := get(t, srv.URL+tt.path)
		if code != tt.code {
			t.Errorf("%s: client got %d, want %d", tt.path, code, tt.code)
		}
		if strings.HasSuffix(tt.path, "/error/") && !strings.Contains(body, "handler says") {
			t.Errorf("%s: client got body %q, not the handler's", tt.path, body)
		}
	}
	srv.Close()
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	lines := auditLines(t, s.LogPath())
	if len(lines) != len(tests) {
		t.Fatalf("%d lines for %d requests:\n%s", len(lines), len(tests), strings.Join(lines, "\n"))
	}
	for i, tt := range tests {
		if !strings.Contains(lines[i], "status="+tt.status+",") || !strings.Contains(lines[i], "success="+tt.success+",") {
			t.Errorf("%s: line %s; want status=%s, success=%s", tt.path, lines[i], tt.status, tt.success)
		}
	}
}
