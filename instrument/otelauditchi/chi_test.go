package otelauditchi_test

import (
	"net/http"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/otelaudit/otelaudit"
	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/instrument/otelauditchi"
	"github.com/otelaudit/otelaudit/internal/routertest"
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

func TestChi(t *testing.T) {
	std := routertest.Standard("GET_FILES_PATH_SUCCESS", "path", "a/b.txt")
	mounted := make([]routertest.Case, len(std))
	for i, c := range std {
		c.Path = "/api" + c.Path
		c.Event = map[string]string{
			"GET_ITEMS_ID_SUCCESS": "GET_API_ITEMS_ID_SUCCESS", "DELETE_ITEMS_ID_SUCCESS": "DELETE_API_ITEMS_ID_SUCCESS",
			"GET_FORBIDDEN_ID_ERROR": "GET_API_FORBIDDEN_ID_ERROR", "GET_PANIC_ERROR": "GET_API_PANIC_ERROR",
			"GET_RE_ID_SUCCESS": "GET_API_RE_ID_SUCCESS", "GET_FILES_PATH_SUCCESS": "GET_API_FILES_PATH_SUCCESS",
		}[c.Event] + map[bool]string{true: c.Event}[c.Event == "READ_SECRET_ERROR" || c.Event == "REQUEST_ERROR"]
		mounted[i] = c
	}
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
		}, mounted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { routertest.Run(t, tt.wire, tt.cases) })
	}
}
