// Package otelauditchi reports the route of a go-chi/chi router to the
// otelaudit audit record of each request, so the record gets its default
// event from the route template and its kwargs from the URL parameters.
//
//	r := chi.NewRouter()
//	r.Use(otelauditchi.Middleware) // first, before authentication
//	r.Use(authenticate)
//	r.Get("/datastore/{datastore_id}/", readDatastore)
//	http.ListenAndServe(addr, auditor.Handler(r)) // the audit handler outermost
//
// Parameter names: {id} and {id:[0-9]+} give kwarg_id; the catch-all * gives
// kwarg_path. The event's method is the request's, which chi only routes
// when a route is registered for it (or for every method, with Handle);
// chi's 404 and 405 report no route (REQUEST_ERROR). A sub-router mounted
// with Mount is part of the pattern ("/api/items/{id}").
//
// Parameter values are recorded decoded, as Psono records them: chi matches
// the escaped path (URL.RawPath, when the request has one) and hands its
// handlers the escaped values ("a%2C%20b"); the record gets them through
// url.PathUnescape ("a, b"). A value that is not valid percent-encoding
// (which net/http's server never lets through, but code in process may
// set in URL.RawPath) is recorded as it is. A value chi matched in the
// decoded path (a request without RawPath, or a routing path that
// middleware such as middleware.StripSlashes set from URL.Path) is never
// decoded twice. chi's own URLParam and r.PathValue stay escaped: a handler
// that looks a value up should decode it the same way.
//
// Middleware that answers before chi routes the request (a global r.Use
// authentication that refuses with 401 or 403, a rate limit) still gets the
// route on the record: when chi did not route the request, the adapter asks
// the router for the route it would have served (chi's Find, which serves
// nothing) and reports that. This needs Middleware to run before such
// middleware: registered after it, or wrapped around the router
// (auditor.Handler(authenticate(r))), Middleware never runs for the
// refused request and its line says REQUEST_ERROR with no kwargs. Middleware
// that rewrites the routing path (rctx.RoutePath, as middleware.CleanPath
// and middleware.StripSlashes do) after Middleware ran is not seen by that
// lookup, which resolves the path as the request arrived.
//
// This package is its own module, so that a service that does not use chi
// never gets chi in its module graph.
package otelauditchi

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/otelaudit/otelaudit/instrument/route"
)

// Middleware reports the matched route when chi's handler returns (or
// panics), or, when chi did not route the request because middleware
// answered first, the route chi would have served. Register it with r.Use
// on the root router, before any middleware that may answer by itself.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var (
			root      chi.Routes
			routePath string
		)
		if rctx := chi.RouteContext(r.Context()); rctx != nil {
			root, routePath = rctx.Routes, rctx.RoutePath
		}
		defer report(r, root, routePath)
		next.ServeHTTP(w, r)
	})
}

func report(r *http.Request, root chi.Routes, routePath string) {
	rctx := chi.RouteContext(r.Context())
	if rctx == nil {
		return
	}
	method := rctx.RouteMethod
	if method == "" {
		method = r.Method
	}
	pattern := rctx.RoutePattern()
	keys, values := rctx.URLParams.Keys, rctx.URLParams.Values
	if pattern == "" || strings.HasSuffix(pattern, "*") && rctx.URLParam("*") == "" {
		// chi did not serve a route: middleware answered before routing,
		// chi answered 404 or 405, or a Mount point's sub-router did
		// (which leaves the mount's pattern with its catch-all blanked,
		// as a catch-all that caught nothing does). Only a route chi
		// finds for the request counts.
		found := find(root, r, method, routePath)
		if found == nil {
			return
		}
		pattern, keys, values = found.RoutePattern(), found.URLParams.Keys, found.URLParams.Values
	}
	escaped := r.URL.RawPath != "" // chi routed URL.RawPath: its values are escaped
	params := make([]route.Param, 0, len(keys))
	for i, k := range keys {
		if i >= len(values) {
			break
		}
		if k == "*" && !strings.HasSuffix(pattern, "*") {
			continue // the catch-all of a Mount point
		}
		v := values[i]
		if escaped && !strings.Contains(r.URL.Path, v) {
			// A value found as it is in the decoded path has nothing to
			// decode, or chi matched it there (middleware such as
			// middleware.StripSlashes set the routing path from
			// URL.Path): it is never decoded twice.
			v = unescape(v)
		}
		p := route.Param{Name: k, Value: v}
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
	route.Set(r.Context(), method, pattern, params...)
}

// find returns the routing context of the route root routes the request's
// method and path to, without serving it; nil when that is its 404 or 405.
// The path is the one chi routes: routePath (set by middleware before
// Middleware ran), else URL.RawPath, else URL.Path.
func find(root chi.Routes, r *http.Request, method, routePath string) *chi.Context {
	if root == nil {
		return nil
	}
	path := routePath
	if path == "" {
		path = r.URL.RawPath
	}
	if path == "" {
		path = r.URL.Path
	}
	if path == "" {
		path = "/"
	}
	rctx := chi.NewRouteContext()
	if root.Find(rctx, method, path) == "" {
		return nil
	}
	return rctx
}

// unescape decodes a value chi matched in the escaped path, or returns it
// as it is when it is not valid percent-encoding.
func unescape(v string) string {
	if d, err := url.PathUnescape(v); err == nil {
		return d
	}
	return v
}
