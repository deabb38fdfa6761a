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
// This package is its own module, so that a service that does not use
// gorilla/mux never gets it in its module graph.
package otelauditgorilla

import (
	"net/http"
	"slices"

	"github.com/gorilla/mux"

	"github.com/otelaudit/otelaudit/instrument"
)

// Middleware reports the matched route when its handler returns (or
// panics). Register it with r.Use.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer report(r)
		next.ServeHTTP(w, r)
	})
}

func report(r *http.Request) {
	route := mux.CurrentRoute(r)
	if route == nil {
		return
	}
	tpl, err := route.GetPathTemplate()
	if err != nil || tpl == "" {
		return
	}
	method := ""
	if methods, err := route.GetMethods(); err == nil && slices.Contains(methods, r.Method) {
		method = r.Method
	}
	vars := mux.Vars(r)
	names := instrument.ParamNames(tpl)
	params := make([]instrument.Param, 0, len(names))
	for _, name := range names {
		if v, ok := vars[name]; ok {
			params = append(params, instrument.Param{Name: name, Value: v})
		}
	}
	instrument.SetRoute(r.Context(), method, tpl, params...)
}
