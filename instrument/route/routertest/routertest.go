// Package routertest is the conformance kit for router adapters: one table
// of requests served through a router wired with its otelaudit adapter,
// behind a real Auditor writing a real audit.log, checking each request's
// line: the status the client got, the event, the kwargs and the user. The
// adapters of chi, gorilla/mux, gin and echo and the core's ServeMux wiring
// all pass the same table; an adapter for another router proves itself the
// same way.
//
// To prove an adapter (one that reports its router's route with package
// instrument/route), register the routes Standard lists on the router, with
// the handlers it describes, wire the router behind the adapter and
// Auditor.Handler, and run the table:
//
//	func TestAdapter(t *testing.T) {
//		routertest.Run(t, func(a *otelaudit.Auditor) http.Handler {
//			r := myrouter.New()
//			r.Use(myadapter.Middleware)
//			standardRoutes(r) // GET /items/{id}/, DELETE /items/{id}/, GET /secret/, ...
//			return a.Handler(r)
//		}, routertest.Standard("GET_FILES_PATH_SUCCESS", "path", "a/b.txt"))
//	}
//
// Standard's arguments name the router's catch-all parameter and the event
// it gives. AuthBeforeRouting adds the requests an authentication in front
// of routing (Deny) refuses, whose lines must still name their route; a
// wiring that cannot know that route says why with Unrouted. A router's own
// cases (mounted sub-routers, its 404 and 405) are Cases appended to the
// table. The adapters' tests (instrument/otelauditchi and the others) are
// complete examples.
package routertest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
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
	Name   string
	Method string
	// Path is the request's target as the client sends it, percent-encoded;
	// the line's req_url must be its decoded path.
	Path   string
	Header http.Header
	Status int               // the status the client must get
	Event  string            // the line's event
	Kwargs map[string]string // every kwarg_* the line must hold, exactly (decoded, as Psono's)
	User   string            // the user, "" for none

	// InProcess serves the request in process instead of over the
	// connection, with both URL.Path and URL.RawPath set to Path as written
	// (and req_url Path itself): for a path that is not valid
	// percent-encoding ("%zz"), which no client can send (net/http's server
	// answers such a request line with 400 before any handler runs, so it
	// has no line at all) but code in process can hand a router.
	InProcess bool

	// Limit, when set, marks a documented limit of the wiring under test:
	// why its router cannot know the route of this request. The case's
	// Event and Kwargs are then what that wiring gives (see Unrouted).
	Limit string
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
//
// Percent-encoded path parameters are recorded decoded, as Psono (Django,
// which routes the decoded path) records them, whether the router matched
// the encoded path (ServeMux, chi, echo) or the decoded one (gorilla/mux,
// gin): an encoded comma and space, an encoded percent sign (decoded once,
// never twice: %2541 is %41), an encoded slash in a catch-all, and a path
// that is not valid percent-encoding, whose value stays as it is.
func Standard(catchAllEvent, catchAll, catchAllValue string) []Case {
	catchAllPrefix := strings.TrimSuffix(catchAllValue, "a/b.txt") // gin's leading '/'
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
		{Name: "encoded comma and space", Method: "GET", Path: "/items/a%2C%20user=admin/", Status: 200, Event: "GET_ITEMS_ID_SUCCESS",
			Kwargs: map[string]string{"id": "a, user=admin", "note": "x", "ratio": "1.0"}, User: "demo"},
		{Name: "encoded percent", Method: "GET", Path: "/items/50%25%2C%2541/", Status: 200, Event: "GET_ITEMS_ID_SUCCESS",
			Kwargs: map[string]string{"id": "50%,%41", "note": "x", "ratio": "1.0"}, User: "demo"},
		{Name: "encoded percent only", Method: "GET", Path: "/items/a%2541/", Status: 200, Event: "GET_ITEMS_ID_SUCCESS",
			Kwargs: map[string]string{"id": "a%41", "note": "x", "ratio": "1.0"}, User: "demo"},
		{Name: "encoded slash in catch-all", Method: "GET", Path: "/files/a%2Fb%20c.txt", Status: 200, Event: catchAllEvent,
			Kwargs: map[string]string{catchAll: catchAllPrefix + "a/b c.txt"}},
		{Name: "invalid escape", Method: "GET", Path: "/items/a%zz/", InProcess: true, Status: 200, Event: "GET_ITEMS_ID_SUCCESS",
			Kwargs: map[string]string{"id": "a%zz", "note": "x", "ratio": "1.0"}, User: "demo"},
	}
}

// DenyHeader is the header on which the authentication of the
// auth-before-routing cases refuses a request.
const DenyHeader = "X-Routertest-Deny"

// Denied reports whether authentication refuses r (it carries DenyHeader).
func Denied(r *http.Request) bool { return r.Header.Get(DenyHeader) != "" }

// Deny stands for an authentication middleware in front of routing: it
// answers 403 to a request Denied refuses, before next (the router, or the
// rest of its middleware chain) runs, and passes every other request on
// with r.WithContext, as authentication middleware does.
func Deny(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if Denied(r) {
			http.Error(w, "denied", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), denyKey{}, true)))
	})
}

type denyKey struct{}

// AuthBeforeRouting returns the cases of requests that authentication
// (Deny, or the framework's middleware calling Denied) refuses with 403
// before their route runs, for a router wired as Standard says, with
// Deny in front of its routing. Each line must still name the route the
// request would have been served by, with its decoded parameters, as
// Standard's lines do. A request for which no route exists gives
// REQUEST_ERROR with the status of whichever answers first: 403 where
// authentication runs for unrouted requests too, the router's own 404
// where it does not (gorilla/mux runs middleware for matched routes only).
func AuthBeforeRouting(catchAllEvent, catchAll, catchAllValue string) []Case {
	deny := http.Header{DenyHeader: {"1"}}
	return []Case{
		{Name: "auth before routing", Method: "GET", Path: "/items/42/", Header: deny, Status: 403, Event: "GET_ITEMS_ID_ERROR",
			Kwargs: map[string]string{"id": "42"}},
		{Name: "auth before routing, encoded", Method: "GET", Path: "/items/a%2C%20b/", Header: deny, Status: 403,
			Event: "GET_ITEMS_ID_ERROR", Kwargs: map[string]string{"id": "a, b"}},
		{Name: "auth before routing, catch-all", Method: "GET", Path: "/files/a/b.txt", Header: deny, Status: 403,
			Event: strings.TrimSuffix(catchAllEvent, "_SUCCESS") + "_ERROR", Kwargs: map[string]string{catchAll: catchAllValue}},
		{Name: "auth before routing, no route", Method: "GET", Path: "/no/such/route", Header: deny, Status: 0, Event: "REQUEST_ERROR"},
		{Name: "auth lets through", Method: "GET", Path: "/items/7/", Status: 200, Event: "GET_ITEMS_ID_SUCCESS",
			Kwargs: map[string]string{"id": "7", "note": "x", "ratio": "1.0"}, User: "demo"},
	}
}

// Unrouted returns cases as a wiring with a documented limit gives them:
// the requests authentication refuses (those with DenyHeader) are recorded
// without a route (REQUEST_ERROR, no kwargs), each marked with limit, the
// reason. Only the wirings the documentation names as the exception may use
// it.
func Unrouted(cases []Case, limit string) []Case {
	out := make([]Case, len(cases))
	for i, c := range cases {
		if c.Header.Get(DenyHeader) != "" {
			c.Event, c.Kwargs, c.Limit = "REQUEST_ERROR", nil, limit
		}
		out[i] = c
	}
	return out
}

// Run serves cases, one at a time, through wire(auditor) on a real TCP
// server (httptest) with an Auditor writing audit.log in a temporary folder,
// shuts everything down and checks one line per case. A case whose Status
// is 0 accepts the router's own 4xx answer (routers differ on unknown
// methods: 404, 405 or 501; on who refuses an unrouted request: 403 or 404)
// and checks that the line holds it.
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
	h := wire(a)
	srv := httptest.NewServer(h)
	got := make([]int, len(cases))
	for i, c := range cases {
		if c.Limit != "" {
			t.Logf("%s: documented limit: %s", c.Name, c.Limit)
		}
		if c.InProcess {
			got[i] = serveInProcess(h, c)
			if c.Status != 0 && got[i] != c.Status {
				t.Errorf("%s: %s %s (in process) = %d, want %d", c.Name, c.Method, c.Path, got[i], c.Status)
			}
			continue
		}
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
			if get("req_method") != c.Method || get("req_url") != reqURL(c) {
				t.Errorf("req_method/req_url wrong, want %s %s: %s", c.Method, reqURL(c), lines[i])
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

// serveInProcess serves c through h in process, with URL.Path and
// URL.RawPath both c.Path, and returns the status.
func serveInProcess(h http.Handler, c Case) int {
	req := httptest.NewRequest(c.Method, "/", nil)
	req.URL.Path, req.URL.RawPath, req.RequestURI = c.Path, c.Path, c.Path
	for k, v := range c.Header {
		req.Header[k] = v
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Code
}

// reqURL is the req_url c's line must hold: its path decoded.
func reqURL(c Case) string {
	if c.InProcess {
		return c.Path
	}
	u, err := url.ParseRequestURI(c.Path)
	if err != nil {
		return c.Path
	}
	return u.Path
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
