package routertest

import (
	"net/http"

	"github.com/otelaudit/otelaudit/instrument"
)

// ServeMux returns the standard routes (see Standard, with the catch-all
// GET /files/{path...}) on a net/http ServeMux: the reference wiring every
// adapter's table is compared with, and a model for registering the same
// routes on another router.
func ServeMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}/", func(w http.ResponseWriter, r *http.Request) {
		instrument.SetUser(r.Context(), "demo", "7")
		instrument.AddKwarg(r.Context(), "note", "x")
		instrument.AddKwargValue(r.Context(), "ratio", 1.0)
	})
	mux.HandleFunc("DELETE /items/{id}/", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("GET /secret/", func(w http.ResponseWriter, r *http.Request) {
		instrument.SetEvent(r.Context(), "READ_SECRET_ERROR")
		http.Error(w, "no", http.StatusUnauthorized)
	})
	mux.HandleFunc("GET /forbidden/{id}/", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusForbidden) })
	mux.HandleFunc("GET /panic/", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	mux.HandleFunc("GET /re/{id}", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /files/{path...}", func(w http.ResponseWriter, r *http.Request) {})
	return mux
}
