package instrument

import (
	"net/http"

	"github.com/otelaudit/otelaudit/instrument/internal/auditctx"
)

// RoutesOf wraps h, the handlers in front of mux (authentication, rate
// limits: anything that may answer before mux routes the request), so that
// a request h answers by itself still carries the route mux would have
// served: when h returns (or panics) and no route was reported, RoutesOf
// asks mux for the pattern (ServeMux.Handler, which serves nothing) and
// reports it with its wildcards' values, as Routes does. Wrap where the path
// is the one mux routes:
//
//	auditor.Handler(instrument.RoutesOf(mux, authenticate(instrument.Routes(mux))))
//
// A request mux would answer with 404, 405 or a redirect of its own gets no
// route.
func RoutesOf(mux *http.ServeMux, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer resolvePattern(mux, r)
		h.ServeHTTP(w, r)
	})
}

// resolvePattern reports the route mux has for r, when none was reported.
// ServeMux gives no wildcard values without serving, so a mux holding only
// the matched pattern serves the request to a handler that does nothing:
// its values are exactly ServeMux's (decoded). That mux is the route's in
// the one route cache (auditctx.RouteInfo.Mux).
func resolvePattern(mux *http.ServeMux, r *http.Request) {
	rec := fromContext(r.Context())
	if rec == nil || rec.HasRoute() {
		return
	}
	_, pattern := mux.Handler(r)
	if pattern == "" {
		return
	}
	r2 := r.WithContext(r.Context()) // ServeMux sets Pattern and the path values on what it serves
	auditctx.Lookup("", pattern, true).Mux().ServeHTTP(discardWriter{}, r2)
	reportPattern(r2)
}

// discardWriter is the ResponseWriter of a request served only to read its
// pattern.
type discardWriter struct{}

func (discardWriter) Header() http.Header         { return http.Header{} }
func (discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (discardWriter) WriteHeader(int)             {}
