// Package route is what a router or RPC framework adapter uses to hand the
// route it matched to the audit record of the request it serves: Set
// reports the route's method, template and parameters, and Carry puts the
// record where a framework whose context looks up only string keys finds
// it. Handlers need none of it: they call the setters of package
// instrument (SetEvent, SetUser, AddKwarg...), and a net/http ServeMux is
// covered by instrument.Routes and instrument.RoutesOf.
//
// An adapter reports when its router returns (or panics), so that the
// innermost router of a request, which returns first, wins:
//
//	func Middleware(next http.Handler) http.Handler {
//		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//			defer func() {
//				// the template and parameters the router matched for r
//				route.Set(r.Context(), method, template, params...)
//			}()
//			next.ServeHTTP(w, r)
//		})
//	}
//
// The adapters of chi, gorilla/mux, gin and echo (modules
// instrument/otelauditchi and so on) are built on this package, and the
// conformance table of package instrument/route/routertest proves them; an
// adapter for another router proves itself with the same table.
package route

import (
	"context"
	"net/http"

	"github.com/otelaudit/otelaudit/instrument/internal/auditctx"
)

// A Param is a route parameter as a router matched it: its name in the
// route template (ParamName cleans it: "id:[0-9]+" and ":id" give "id", "*"
// gives "path") and the value the request's path gave it.
type Param struct {
	Name, Value string
}

// Set reports the route that serves the request of ctx: the method the
// route was registered for ("" when it serves every method), its template
// as the router writes it ("/datastore/{datastore_id}/", "/re/{id:[0-9]+}",
// "/files/*", "/share/:share_id/") and its parameters in template order.
// The record's default event is then derived from method and template (see
// instrument.NewHandler) and each parameter becomes a kwarg, named as
// ParamName gives.
//
// Only the first report of a request counts, so the innermost router, which
// reports first (every adapter reports when its router returns), wins over
// the routers around it. A method other than GET, HEAD, POST, PUT, PATCH,
// DELETE, CONNECT, OPTIONS and TRACE is dropped (never part of an event),
// and an empty template reports nothing: events come from the router's
// templates, never from what a client sent. Called with a context that
// holds no audit record, Set does nothing and the misuse is reported as
// the setters' is (see instrument.SetMisuseReporter).
func Set(ctx context.Context, method, template string, params ...Param) {
	r := auditctx.Of(ctx, "route.Set")
	if r == nil || template == "" {
		return
	}
	if !standardMethod(method) {
		method = ""
	}
	ps := make([]auditctx.Param, len(params))
	for i, p := range params {
		ps[i] = auditctx.Param(p)
	}
	r.SetRoute(auditctx.Lookup(method, template, false), ps)
}

func standardMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// ParamName is the kwarg name of a route parameter as a router names it:
// without a regexp ("id:[0-9]+" gives "id"), a trailing "..." or a leading
// ':' or '*' ("*filepath" gives "filepath"); a bare "*" (the catch-all of
// chi and echo) gives "path".
func ParamName(name string) string { return auditctx.ParamName(name) }

// ParamNames returns the names of a route template's parameters in
// template order, as ParamName gives them ("/re/{id:[0-9]+}/{rest:.*}"
// gives id and rest), for adapters of routers that hand the values over in
// a map.
func ParamNames(template string) []string {
	return append([]string(nil), auditctx.Lookup("", template, false).Wildcards...)
}

// ScopeKey is the string key under which a framework whose context looks
// up only string keys carries the request's audit record (gin's c.Keys; see
// Carry). Only values package instrument made are ever used from it.
const ScopeKey = "github.com/otelaudit/otelaudit/instrument.record" // equal to auditctx.ScopeKey: TestSetAndCarry

// Carry hands the audit record of ctx to set under ScopeKey, for a
// framework whose own context looks up only string keys: the gin adapter
// calls Carry(c.Request.Context(), c.Set) so that the setters of package
// instrument accept the *gin.Context. It does nothing when ctx holds no
// record.
func Carry(ctx context.Context, set func(key any, value any)) {
	if r := auditctx.FromContext(ctx); r != nil {
		set(ScopeKey, r)
	}
}
