// Package routertest runs one table of requests through a router wired with
// its otelaudit adapter behind a real Auditor writing a real audit.log, and
// checks each request's line: the status the client got, the event, the
// kwargs and the user. The adapter modules' tests and the core's share it.
package routertest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/otelaudit/otelaudit"
	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/psono"
)

// A Case is one request and the line it must give.
type Case struct {
	Name         string
	Method, Path string
	Header       http.Header
	Status       int               // the status the client must get
	Event        string            // the line's event
	Kwargs       map[string]string // every kwarg_* the line must hold, exactly
	User         string            // the user, "" for none
}

// Standard returns the cases every router's test serves, for a router whose
// routes are wired as the adapters' tests wire them:
//
//	GET    /items/{id}/      SetUser("demo", "7"), AddKwarg("note", "x"), AddKwargValue("ratio", 1.0); 200
//	DELETE /items/{id}/      204
//	GET    /secret/          SetEvent("READ_SECRET_ERROR"); 401 through the framework's way of refusing
//	GET    /forbidden/{id}/  403 through the framework's error path (echo.NewHTTPError, c.AbortWithStatus)
//	GET    /panic/           panics
//	GET    /re/{id:[0-9]+}   200 (a regexp parameter where the router has them)
//	GET    /files/<catch-all> 200
//
// catchAll is the kwarg name of the catch-all parameter and catchAllValue
// its value for /files/a/b.txt; catchAllEvent the event of that route.
func Standard(catchAllEvent, catchAll, catchAllValue string) []Case {
	return []Case{
		{Name: "success", Method: "GET", Path: "/items/42/", Status: 200, Event: "GET_ITEMS_ID_SUCCESS",
			Kwargs: map[string]string{"id": "42", "note": "x", "ratio": "1.0"}, User: "demo"},
		{Name: "method in event", Method: "DELETE", Path: "/items/42/", Status: 204, Event: "DELETE_ITEMS_ID_SUCCESS",
			Kwargs: map[string]string{"id": "42"}},
		{Name: "401", Method: "GET", Path: "/secret/", Status: 401, Event: "READ_SECRET_ERROR"},
		{Name: "403", Method: "GET", Path: "/forbidden/9/", Status: 403, Event: "GET_FORBIDDEN_ID_ERROR",
			Kwargs: map[string]string{"id": "9"}},
		{Name: "404", Method: "GET", Path: "/no/such/route", Status: 404, Event: "REQUEST_ERROR"},
		{Name: "405", Method: "POST", Path: "/items/42/", Status: 405, Event: "REQUEST_ERROR"},
		{Name: "client-invented method", Method: "BREW", Path: "/items/42/", Status: 0, Event: "REQUEST_ERROR"},
		{Name: "panic", Method: "GET", Path: "/panic/", Status: 500, Event: "GET_PANIC_ERROR"},
		{Name: "regexp param", Method: "GET", Path: "/re/123", Status: 200, Event: "GET_RE_ID_SUCCESS",
			Kwargs: map[string]string{"id": "123"}},
		{Name: "catch-all param", Method: "GET", Path: "/files/a/b.txt", Status: 200, Event: catchAllEvent,
			Kwargs: map[string]string{catchAll: catchAllValue}},
	}
}

// Run serves cases, one at a time, through wire(auditor) on a real TCP
// server (httptest) with an Auditor writing audit.log in a temporary folder,
// shuts everything down and checks one line per case. A case whose Status
// is 0 accepts the router's own 4xx answer (routers differ on unknown
// methods: 404, 405 or 501) and checks that the line holds it.
func Run(t *testing.T, wire func(a *otelaudit.Auditor) http.Handler, cases []Case) {
	t.Helper()
	dir := t.TempDir()
	s := config.Default()
	s.Enabled = true
	s.Folder = dir
	var (
		mu       sync.Mutex
		reported []error
	)
	a, err := otelaudit.New(s, otelaudit.WithHostName("router-test"),
		otelaudit.WithErrorLog(func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() }))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(wire(a))
	got := make([]int, len(cases))
	for i, c := range cases {
		req, err := http.NewRequest(c.Method, srv.URL+c.Path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range c.Header {
			req.Header[k] = v
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		resp.Body.Close()
		got[i] = resp.StatusCode
		if c.Status != 0 && resp.StatusCode != c.Status {
			t.Errorf("%s: %s %s = %d, want %d", c.Name, c.Method, c.Path, resp.StatusCode, c.Status)
		}
	}
	srv.Close()
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	lines := ReadLines(t, filepath.Join(dir, "audit.log"))
	if len(lines) != len(cases) {
		t.Fatalf("audit.log has %d lines, want %d:\n%s", len(lines), len(cases), strings.Join(lines, "\n"))
	}
	for i, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			l, err := psono.Parse(lines[i])
			if err != nil {
				t.Fatal(err)
			}
			get := func(k string) string { v, _ := l.Get(k); return v }
			wantSuccess := "False"
			if got[i] >= 200 && got[i] < 300 {
				wantSuccess = "True"
			}
			if get("status") != psono.StatusName(got[i]) || get("success") != wantSuccess {
				t.Errorf("line %s\nstatus/success do not say %d, the status the client got", lines[i], got[i])
			}
			if c.Status == 0 && (got[i] < 400 || got[i] > 501) {
				t.Errorf("client-invented method answered %d", got[i])
			}
			if get("event") != c.Event {
				t.Errorf("event = %s, want %s (line %s)", get("event"), c.Event, lines[i])
			}
			if get("req_method") != c.Method || get("req_url") != c.Path {
				t.Errorf("req_method/req_url wrong: %s", lines[i])
			}
			if get("user") != c.User {
				t.Errorf("user = %q, want %q", get("user"), c.User)
			}
			kw := map[string]string{}
			for _, p := range l.Pairs {
				if name, ok := strings.CutPrefix(p.Key, psono.KwargPrefix); ok {
					kw[name] = p.Value
				}
			}
			if len(kw) != len(c.Kwargs) {
				t.Errorf("kwargs = %v, want %v", kw, c.Kwargs)
			}
			for k, v := range c.Kwargs {
				if kw[k] != v {
					t.Errorf("kwarg_%s = %q, want %q (line %s)", k, kw[k], v, lines[i])
				}
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	for _, err := range reported {
		if !strings.Contains(err.Error(), "panic") {
			t.Errorf("unexpected error report: %v", err)
		}
	}
}

// ReadLines returns the lines of the file at path.
func ReadLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}
