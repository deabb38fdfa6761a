package otelauditgorilla_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	"github.com/otelaudit/otelaudit"
	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/instrument/otelauditgorilla"
	"github.com/otelaudit/otelaudit/instrument/route/routertest"
)

func standardRouter(r *mux.Router) {
	r.HandleFunc("/items/{id}/", func(w http.ResponseWriter, r *http.Request) {
		instrument.SetUser(r.Context(), "demo", "7")
		instrument.AddKwarg(r.Context(), "note", "x")
		instrument.AddKwargValue(r.Context(), "ratio", 1.0)
	}).Methods("GET")
	r.HandleFunc("/items/{id}/", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }).Methods("DELETE")
	r.HandleFunc("/secret/", func(w http.ResponseWriter, r *http.Request) {
		instrument.SetEvent(r.Context(), "READ_SECRET_ERROR")
		http.Error(w, "no", http.StatusUnauthorized)
	}).Methods("GET")
	r.HandleFunc("/forbidden/{id}/", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusForbidden) }).Methods("GET")
	r.HandleFunc("/panic/", func(w http.ResponseWriter, r *http.Request) { panic("boom") }).Methods("GET")
	r.HandleFunc("/re/{id:[0-9]+}", func(w http.ResponseWriter, r *http.Request) {}).Methods("GET")
	r.HandleFunc("/files/{path:.*}", func(w http.ResponseWriter, r *http.Request) {}).Methods("GET")
	r.HandleFunc("/any/{x}", func(w http.ResponseWriter, r *http.Request) {})
}

// subrouted returns cases as a subrouter at /api gives them.
func subrouted(cases []routertest.Case) []routertest.Case {
	out := make([]routertest.Case, len(cases))
	for i, c := range cases {
		c.Path = "/api" + c.Path
		if c.Event != "READ_SECRET_ERROR" && c.Event != "REQUEST_ERROR" {
			c.Event = strings.Replace(c.Event, "_", "_API_", 1)
			if c.Event == "ANY_API_X_SUCCESS" {
				c.Event = "API_ANY_X_SUCCESS"
			}
		}
		if c.Status == 405 {
			c.Status = 0 // a gorilla/mux subrouter answers a wrong method with 404; the line must say so
		}
		out[i] = c
	}
	return out
}

func TestGorilla(t *testing.T) {
	std := append(routertest.Standard("GET_FILES_PATH_SUCCESS", "path", "a/b.txt"),
		routertest.Case{Name: "route without Methods", Method: "PUT", Path: "/any/1", Status: 200, Event: "ANY_X_SUCCESS",
			Kwargs: map[string]string{"x": "1"}})
	tests := []struct {
		name  string
		wire  func(a *otelaudit.Auditor) http.Handler
		cases []routertest.Case
	}{
		{"router", func(a *otelaudit.Auditor) http.Handler {
			r := mux.NewRouter()
			r.Use(otelauditgorilla.Middleware)
			standardRouter(r)
			return a.Handler(r)
		}, std},
		{"subrouter", func(a *otelaudit.Auditor) http.Handler {
			r := mux.NewRouter()
			r.Use(otelauditgorilla.Middleware)
			standardRouter(r.PathPrefix("/api").Subrouter())
			return a.Handler(r)
		}, subrouted(std)},
		// UseEncodedPath: gorilla/mux matches the escaped path, and
		// mux.Vars holds escaped values; the line holds them decoded.
		{"UseEncodedPath", func(a *otelaudit.Auditor) http.Handler {
			r := mux.NewRouter().UseEncodedPath()
			r.Use(otelauditgorilla.Middleware)
			standardRouter(r)
			return a.Handler(r)
		}, std},
		{"UseEncodedPath subrouter", func(a *otelaudit.Auditor) http.Handler {
			r := mux.NewRouter().UseEncodedPath()
			r.Use(otelauditgorilla.Middleware)
			standardRouter(r.PathPrefix("/api").Subrouter())
			return a.Handler(r)
		}, subrouted(std)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { routertest.Run(t, tt.wire, tt.cases) })
	}
}

// TestGorillaAuthBeforeRouting: gorilla/mux runs middleware after it
// matched the route, so authentication registered with r.Use after the
// adapter (on the router or on a subrouter) refuses with the route known.
func TestGorillaAuthBeforeRouting(t *testing.T) {
	auth := routertest.AuthBeforeRouting("GET_FILES_PATH_SUCCESS", "path", "a/b.txt")
	tests := []struct {
		name  string
		wire  func(a *otelaudit.Auditor) http.Handler
		cases []routertest.Case
	}{
		{"router", func(a *otelaudit.Auditor) http.Handler {
			r := mux.NewRouter()
			r.Use(otelauditgorilla.Middleware, routertest.Deny)
			standardRouter(r)
			return a.Handler(r)
		}, auth},
		{"subrouter", func(a *otelaudit.Auditor) http.Handler {
			r := mux.NewRouter()
			r.Use(otelauditgorilla.Middleware)
			sub := r.PathPrefix("/api").Subrouter()
			sub.Use(routertest.Deny)
			standardRouter(sub)
			return a.Handler(r)
		}, subrouted(auth)},
		// The documented limits: the adapter does not run for the refused
		// request.
		{"limit: authentication before the adapter", func(a *otelaudit.Auditor) http.Handler {
			r := mux.NewRouter()
			r.Use(routertest.Deny, otelauditgorilla.Middleware)
			standardRouter(r)
			return a.Handler(r)
		}, routertest.Unrouted(auth, "registered before otelauditgorilla.Middleware, authentication answers before the adapter runs")},
		{"limit: authentication around the router", func(a *otelaudit.Auditor) http.Handler {
			r := mux.NewRouter()
			r.Use(otelauditgorilla.Middleware)
			standardRouter(r)
			return a.Handler(routertest.Deny(r))
		}, routertest.Unrouted(auth, "wrapped around the router, authentication answers before gorilla/mux (and the adapter) runs")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { routertest.Run(t, tt.wire, tt.cases) })
	}
}
