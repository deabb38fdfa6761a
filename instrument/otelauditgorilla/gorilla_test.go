package otelauditgorilla_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	"github.com/otelaudit/otelaudit"
	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/instrument/otelauditgorilla"
	"github.com/otelaudit/otelaudit/internal/routertest"
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

func TestGorilla(t *testing.T) {
	std := append(routertest.Standard("GET_FILES_PATH_SUCCESS", "path", "a/b.txt"),
		routertest.Case{Name: "route without Methods", Method: "PUT", Path: "/any/1", Status: 200, Event: "ANY_X_SUCCESS",
			Kwargs: map[string]string{"x": "1"}})
	mounted := make([]routertest.Case, len(std))
	for i, c := range std {
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
		mounted[i] = c
	}
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
		}, mounted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { routertest.Run(t, tt.wire, tt.cases) })
	}
}
