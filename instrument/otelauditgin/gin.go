// Package otelauditgin reports the route of a gin engine to the otelaudit
// audit record of each request, so the record gets its default event from
// the route (c.FullPath()) and its kwargs from c.Params, and lets the
// instrument setters take the *gin.Context itself.
//
//	r := gin.New()
//	r.Use(otelauditgin.Middleware(), gin.Recovery())
//	r.GET("/datastore/:datastore_id/", func(c *gin.Context) {
//		instrument.SetEvent(c, "LIST_DATASTORE_SUCCESS") // c is enough
//	})
//	http.ListenAndServe(addr, auditor.Handler(r)) // the audit handler outermost
//
// Parameter names: :id gives kwarg_id, *filepath gives kwarg_filepath (gin's
// value, with its leading '/'). The event's method is the request's, which
// gin only routes to a route registered for it (or for every method, with
// Any). gin's 404 and 405 (with HandleMethodNotAllowed) report no route
// (REQUEST_ERROR). Register Middleware first, before gin.Recovery, so that
// a recovered panic keeps its route.
//
// Parameter values are recorded as gin hands them over: decoded, as Psono
// records them, whether gin matched the decoded path (its default) or the
// escaped one (UseRawPath, with UnescapePathValues, its default). Setting
// UnescapePathValues to false makes gin hand over escaped values
// ("a%2C%20b"), which the adapter cannot tell from decoded ones (it cannot
// see the engine's settings): leave it at true.
//
// gin routes a request before it runs any middleware (for its 404 and 405
// too), so authentication registered with r.Use after Middleware refuses
// with the route known (c.FullPath()). Registered before Middleware (its
// c.Abort stops the chain), or wrapped around the engine
// (auditor.Handler(authenticate(r))), it answers before Middleware runs:
// that line says REQUEST_ERROR with no kwargs.
//
// This package is its own module, so that a service that does not use gin
// never gets gin in its module graph.
package otelauditgin

import (
	"github.com/gin-gonic/gin"

	"github.com/otelaudit/otelaudit/instrument/route"
)

// Middleware returns the gin middleware: it carries the request's audit
// record into c (so instrument.SetEvent(c, ...) and the other setters
// accept the *gin.Context, with or without ContextWithFallback) and reports
// the matched route when the handlers return (or panic).
func Middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		route.Carry(ctx, c.Set)
		defer func() {
			tpl := c.FullPath()
			if tpl == "" {
				return // 404, 405
			}
			params := make([]route.Param, len(c.Params))
			for i, p := range c.Params {
				params[i] = route.Param{Name: p.Key, Value: p.Value}
			}
			route.Set(ctx, c.Request.Method, tpl, params...)
		}()
		c.Next()
	}
}
