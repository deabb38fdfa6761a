// Package otelauditchi reports the route of a go-chi/chi router to the
// otelaudit audit record of each request, so the record gets its default
// event from the route template and its kwargs from the URL parameters.
//
//	r := chi.NewRouter()
//	r.Use(otelauditchi.Middleware)
//	r.Get("/datastore/{datastore_id}/", readDatastore)
//	http.ListenAndServe(addr, auditor.Handler(r)) // the audit handler outermost
//
// Parameter names: {id} and {id:[0-9]+} give kwarg_id; the catch-all * gives
// kwarg_path. The event's method is the request's, which chi only routes
// when a route is registered for it (or for every method, with Handle);
// chi's 404 and 405 report no route (REQUEST_ERROR). A sub-router mounted
// with Mount is part of the pattern ("/api/items/{id}").
//
// This package is its own module, so that a service that does not use chi
// never gets chi in its module graph.
package otelauditchi

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/otelaudit/otelaudit/instrument"
)

// Middleware reports the matched route when chi's handler returns (or
// panics). Register it with r.Use on the root router.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var root chi.Routes
		if rctx := chi.RouteContext(r.Context()); rctx != nil {
			root = rctx.Routes
		}
		defer report(r, root)
		next.ServeHTTP(w, r)
	})
}

func report(r *http.Request, root chi.Routes) {
	rctx := chi.RouteContext(r.Context())
	if rctx == nil {
		return
	}
	pattern := rctx.RoutePattern()
	if pattern == "" || strings.HasSuffix(pattern, "*") && rctx.URLParam("*") == "" && !found(root, r) {
		// A pattern ending in a catch-all that caught nothing is also
		// what a Mount point whose sub-router answered 404 or 405
		// leaves: only a route chi finds again counts.
		return
	}
	keys, values := rctx.URLParams.Keys, rctx.URLParams.Values
	params := make([]instrument.Param, 0, len(keys))
	for i, k := range keys {
		if i >= len(values) {
			break
		}
		if k == "*" && !strings.HasSuffix(pattern, "*") {
			continue // the blanked catch-all of a Mount point
		}
		p := instrument.Param{Name: k, Value: values[i]}
		replaced := false
		for j := range params { // a later (deeper) value wins
			if params[j].Name == k {
				params[j], replaced = p, true
			}
		}
		if !replaced {
			params = append(params, p)
		}
	}
	instrument.SetRoute(r.Context(), rctx.RouteMethod, pattern, params...)
}

// found reports whether root routes the request's method and path to a
// route (rather than to its 404 or 405).
func found(root chi.Routes, r *http.Request) bool {
	if root == nil {
		return false
	}
	path := r.URL.RawPath
	if path == "" {
		path = r.URL.Path
	}
	return root.Find(chi.NewRouteContext(), r.Method, path) != ""
}
