// Package otelauditgorilla reports the route of a gorilla/mux router to the
// otelaudit audit record of each request, so the record gets its default
// event from the route's path template and its kwargs from mux.Vars.
//
//	r := mux.NewRouter()
//	r.Use(otelauditgorilla.Middleware)
//	r.HandleFunc("/datastore/{datastore_id}/", readDatastore).Methods("GET")
//	http.ListenAndServe(addr, auditor.Handler(r)) // the audit handler outermost
//
// Parameter names: {id} and {id:[0-9]+} give kwarg_id ({path:.*} gives
// kwarg_path), in template order. The event's method is the request's when
// the route was registered with Methods including it, and absent for a
// route without Methods. gorilla/mux runs middleware only for a matched
// route, so its 404 and 405 report no route (REQUEST_ERROR).
//
// Parameter values are recorded decoded, as Psono records them. gorilla/mux
// matches the decoded path (URL.Path), and mux.Vars holds decoded values,
// unless the router was made with UseEncodedPath: it then matches the
// escaped path (URL.EscapedPath) and mux.Vars holds escaped values
// ("a%2C%20b"), which the record gets through url.PathUnescape ("a, b"; a
// value that is not valid percent-encoding is recorded as it is). The
// adapter tells the two apart by matching the route's path regexp against
// both paths, only for a request whose escaped path differs from its
// decoded one; a value is never decoded twice. (A route that matches
// %2F as a slash in a {name} needs UseEncodedPath: without it the path has
// a slash there.)
//
// Authentication registered with r.Use after Middleware runs once the
// route matched, so its 401 or 403 has the route. Registered before
// Middleware, or wrapped around the router (auditor.Handler(authenticate(r))),
// it answers before Middleware runs: that line says REQUEST_ERROR with no
// kwargs. Register Middleware first.
//
// This package is its own module, so that a service that does not use
// gorilla/mux never gets it in its module graph.
package otelauditgorilla

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sync"

	"github.com/gorilla/mux"

	"github.com/otelaudit/otelaudit/instrument/route"
)

// Middleware reports the matched route when its handler returns (or
// panics). Register it with r.Use, before any middleware that may answer by
// itself.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer report(r)
		next.ServeHTTP(w, r)
	})
}

func report(r *http.Request) {
	rt := mux.CurrentRoute(r)
	if rt == nil {
		return
	}
	tpl, err := rt.GetPathTemplate()
	if err != nil || tpl == "" {
		return
	}
	method := ""
	if methods, err := rt.GetMethods(); err == nil && slices.Contains(methods, r.Method) {
		method = r.Method
	}
	vars := mux.Vars(r)
	names := route.ParamNames(tpl)
	escaped := escapedVars(rt, r, names, vars)
	params := make([]route.Param, 0, len(names))
	for _, name := range names {
		if v, ok := vars[name]; ok {
			if escaped {
				v = unescape(v)
			}
			params = append(params, route.Param{Name: name, Value: v})
		}
	}
	route.Set(r.Context(), method, tpl, params...)
}

// escapedVars reports whether vars came from the escaped path (a router
// with UseEncodedPath): the route's path regexp gives vars from
// URL.EscapedPath() and not from URL.Path. When the two paths are the same
// string, so are the values, and nothing needs decoding.
func escapedVars(rt *mux.Route, r *http.Request, names []string, vars map[string]string) bool {
	esc := r.URL.EscapedPath()
	if esc == r.URL.Path || len(names) == 0 {
		return false
	}
	src, err := rt.GetPathRegexp()
	if err != nil {
		return false
	}
	re := pathRegexp(src)
	return re != nil && sameVars(re, esc, names, vars) && !sameVars(re, r.URL.Path, names, vars)
}

// sameVars reports whether re, matched against path, gives vars: its
// groups are the template's variables in template order (gorilla/mux
// refuses capturing groups of a variable's own).
func sameVars(re *regexp.Regexp, path string, names []string, vars map[string]string) bool {
	m := re.FindStringSubmatch(path)
	if len(m) != len(names)+1 {
		return false
	}
	for i, name := range names {
		if v, ok := vars[name]; ok && m[i+1] != v {
			return false
		}
	}
	return true
}

// regexps caches the compiled path regexps of the routes (as many as the
// router has); nil for one that does not compile.
var regexps sync.Map // string -> *regexp.Regexp

func pathRegexp(src string) *regexp.Regexp {
	if re, ok := regexps.Load(src); ok {
		return re.(*regexp.Regexp)
	}
	re, err := regexp.Compile(src)
	if err != nil {
		re = nil
	}
	v, _ := regexps.LoadOrStore(src, re)
	return v.(*regexp.Regexp)
}

// unescape decodes a value matched in the escaped path, or returns it as it
// is when it is not valid percent-encoding.
func unescape(v string) string {
	if d, err := url.PathUnescape(v); err == nil {
		return d
	}
	return v
}
