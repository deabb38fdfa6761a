package otelauditchi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/otelaudit/otelaudit"
	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/instrument/otelauditchi"
	"github.com/otelaudit/otelaudit/instrument/route/routertest"
)

func standardRouter(r chi.Router) {
	r.Get("/items/{id}/", func(w http.ResponseWriter, r *http.Request) {
		instrument.SetUser(r.Context(), "demo", "7")
		instrument.AddKwarg(r.Context(), "note", "x")
		instrument.AddKwargValue(r.Context(), "ratio", 1.0)
	})
	r.Delete("/items/{id}/", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	r.Get("/secret/", func(w http.ResponseWriter, r *http.Request) {
		instrument.SetEvent(r.Context(), "READ_SECRET_ERROR")
		http.Error(w, "no", http.StatusUnauthorized)
	})
	r.Get("/forbidden/{id}/", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusForbidden) })
	r.Get("/panic/", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	r.Get("/re/{id:[0-9]+}", func(w http.ResponseWriter, r *http.Request) {})
	r.Get("/files/*", func(w http.ResponseWriter, r *http.Request) {})
}

// mounted returns cases as a sub-router mounted at /api gives them.
func mounted(cases []routertest.Case) []routertest.Case {
	out := make([]routertest.Case, len(cases))
	for i, c := range cases {
		c.Path = "/api" + c.Path
		if c.Event != "READ_SECRET_ERROR" && c.Event != "REQUEST_ERROR" {
			c.Event = strings.Replace(c.Event, "_", "_API_", 1)
		}
		out[i] = c
	}
	return out
}

func TestChi(t *testing.T) {
	std := routertest.Standard("GET_FILES_PATH_SUCCESS", "path", "a/b.txt")
	tests := []struct {
		name  string
		wire  func(a *otelaudit.Auditor) http.Handler
		cases []routertest.Case
	}{
		{"router", func(a *otelaudit.Auditor) http.Handler {
			r := chi.NewRouter()
			r.Use(otelauditchi.Middleware)
			standardRouter(r)
			return a.Handler(r)
		}, append(std, routertest.Case{Name: "empty catch-all", Method: "GET", Path: "/files/", Status: 200,
			Event: "GET_FILES_PATH_SUCCESS", Kwargs: map[string]string{"path": ""}})},
		{"mounted sub-router", func(a *otelaudit.Auditor) http.Handler {
			r := chi.NewRouter()
			r.Use(otelauditchi.Middleware)
			sub := chi.NewRouter()
			standardRouter(sub)
			r.Mount("/api", sub)
			return a.Handler(r)
		}, mounted(std)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { routertest.Run(t, tt.wire, tt.cases) })
	}
}

// TestChiDecodedRoutingPath: middleware.StripSlashes makes chi route the
// decoded URL.Path even when the request has a RawPath; its values are
// recorded as they are, never decoded a second time.
func TestChiDecodedRoutingPath(t *testing.T) {
	routertest.Run(t, func(a *otelaudit.Auditor) http.Handler {
		r := chi.NewRouter()
		r.Use(otelauditchi.Middleware, middleware.StripSlashes)
		r.Get("/strip/{id}", func(w http.ResponseWriter, r *http.Request) {})
		return a.Handler(r)
	}, []routertest.Case{
		{Name: "decoded by chi", Method: "GET", Path: "/strip/50%2541%2C/", Status: 200, Event: "GET_STRIP_ID_SUCCESS",
			Kwargs: map[string]string{"id": "50%41,"}},
		{Name: "escaped", Method: "GET", Path: "/strip/50%2541%2C", Status: 200, Event: "GET_STRIP_ID_SUCCESS",
			Kwargs: map[string]string{"id": "50%41,"}},
	})
}

// TestChiAuthBeforeRouting: authentication registered with r.Use after the
// adapter runs before chi routes the request; its 403 still names the
// route (chi's Find), with decoded parameters, on the root router, through
// a Mount, and in the middleware of the mounted sub-router itself.
func TestChiAuthBeforeRouting(t *testing.T) {
	auth := routertest.AuthBeforeRouting("GET_FILES_PATH_SUCCESS", "path", "a/b.txt")
	tests := []struct {
		name  string
		wire  func(a *otelaudit.Auditor) http.Handler
		cases []routertest.Case
	}{
		{"root router", func(a *otelaudit.Auditor) http.Handler {
			r := chi.NewRouter()
			r.Use(otelauditchi.Middleware, routertest.Deny)
			standardRouter(r)
			return a.Handler(r)
		}, auth},
		{"root router, mounted routes", func(a *otelaudit.Auditor) http.Handler {
			r := chi.NewRouter()
			r.Use(otelauditchi.Middleware, routertest.Deny)
			sub := chi.NewRouter()
			standardRouter(sub)
			r.Mount("/api", sub)
			return a.Handler(r)
		}, mounted(auth)},
		{"in the mounted sub-router", func(a *otelaudit.Auditor) http.Handler {
			r := chi.NewRouter()
			r.Use(otelauditchi.Middleware)
			r.Route("/api", func(sub chi.Router) {
				sub.Use(routertest.Deny)
				standardRouter(sub)
			})
			return a.Handler(r)
		}, mounted(auth)},
		// The documented limits: the adapter does not run for the refused
		// request.
		{"limit: authentication before the adapter", func(a *otelaudit.Auditor) http.Handler {
			r := chi.NewRouter()
			r.Use(routertest.Deny, otelauditchi.Middleware)
			standardRouter(r)
			return a.Handler(r)
		}, routertest.Unrouted(auth, "registered before otelauditchi.Middleware, authentication answers before the adapter runs")},
		{"limit: authentication around the router", func(a *otelaudit.Auditor) http.Handler {
			r := chi.NewRouter()
			r.Use(otelauditchi.Middleware)
			standardRouter(r)
			return a.Handler(routertest.Deny(r))
		}, routertest.Unrouted(auth, "wrapped around the router, authentication answers before chi (and the adapter) runs")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { routertest.Run(t, tt.wire, tt.cases) })
	}
}
