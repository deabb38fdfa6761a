package otelauditgin_test

import (
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/otelaudit/otelaudit"
	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/instrument/otelauditgin"
	"github.com/otelaudit/otelaudit/instrument/route/routertest"
)

func init() { gin.SetMode(gin.ReleaseMode) }

func standardRouter(r gin.IRouter) {
	r.GET("/items/:id/", func(c *gin.Context) {
		instrument.SetUser(c, "demo", "7") // the *gin.Context itself
		instrument.AddKwarg(c, "note", "x")
		instrument.AddKwargValue(c, "ratio", 1.0)
	})
	r.DELETE("/items/:id/", func(c *gin.Context) { c.Status(http.StatusNoContent) })
	r.GET("/secret/", func(c *gin.Context) {
		instrument.SetEvent(c, "READ_SECRET_ERROR")
		c.AbortWithStatus(http.StatusUnauthorized)
	})
	r.GET("/forbidden/:id/", func(c *gin.Context) { c.AbortWithStatusJSON(http.StatusForbidden, gin.H{"detail": "no"}) })
	r.GET("/panic/", func(c *gin.Context) { panic("boom") })
	r.GET("/re/:id", func(c *gin.Context) {})
	r.GET("/files/*filepath", func(c *gin.Context) {})
}

func TestGin(t *testing.T) {
	std := routertest.Standard("GET_FILES_FILEPATH_SUCCESS", "filepath", "/a/b.txt")
	tests := []struct {
		name  string
		wire  func(a *otelaudit.Auditor) http.Handler
		cases []routertest.Case
	}{
		{"gin.Recovery", func(a *otelaudit.Auditor) http.Handler {
			r := gin.New()
			r.HandleMethodNotAllowed = true
			r.Use(otelauditgin.Middleware(), gin.Recovery())
			standardRouter(r)
			return a.Handler(r)
		}, std},
		{"no recovery, ContextWithFallback, group", func(a *otelaudit.Auditor) http.Handler {
			r := gin.New()
			r.HandleMethodNotAllowed = true
			r.ContextWithFallback = true
			r.Use(otelauditgin.Middleware())
			standardRouter(r.Group("/"))
			return a.Handler(r)
		}, std},
		// UseRawPath: gin matches the escaped path and, with
		// UnescapePathValues (its default), decodes the values itself.
		{"UseRawPath", func(a *otelaudit.Auditor) http.Handler {
			r := gin.New()
			r.HandleMethodNotAllowed = true
			r.UseRawPath = true
			r.Use(otelauditgin.Middleware(), gin.Recovery())
			standardRouter(r)
			return a.Handler(r)
		}, std},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { routertest.Run(t, tt.wire, tt.cases) })
	}
}

// deny is routertest.Deny as gin middleware.
func deny(c *gin.Context) {
	if routertest.Denied(c.Request) {
		c.AbortWithStatus(http.StatusForbidden)
	}
}

// TestGinAuthBeforeRouting: gin runs its middleware after it routed the
// request (for its 404 and 405 too), so authentication registered with
// r.Use after the adapter refuses with the route known.
func TestGinAuthBeforeRouting(t *testing.T) {
	auth := routertest.AuthBeforeRouting("GET_FILES_FILEPATH_SUCCESS", "filepath", "/a/b.txt")
	tests := []struct {
		name  string
		wire  func(a *otelaudit.Auditor) http.Handler
		cases []routertest.Case
	}{
		{"engine", func(a *otelaudit.Auditor) http.Handler {
			r := gin.New()
			r.HandleMethodNotAllowed = true
			r.Use(otelauditgin.Middleware(), deny)
			standardRouter(r)
			return a.Handler(r)
		}, auth},
		{"group", func(a *otelaudit.Auditor) http.Handler {
			r := gin.New()
			r.Use(otelauditgin.Middleware())
			g := r.Group("/")
			g.Use(deny)
			standardRouter(g)
			return a.Handler(r)
		}, auth},
		// The documented limits: the adapter does not run for the refused
		// request.
		{"limit: authentication before the adapter", func(a *otelaudit.Auditor) http.Handler {
			r := gin.New()
			r.Use(deny, otelauditgin.Middleware())
			standardRouter(r)
			return a.Handler(r)
		}, routertest.Unrouted(auth, "registered before otelauditgin.Middleware, authentication aborts before the adapter runs")},
		{"limit: authentication around the engine", func(a *otelaudit.Auditor) http.Handler {
			r := gin.New()
			r.Use(otelauditgin.Middleware())
			standardRouter(r)
			return a.Handler(routertest.Deny(r))
		}, routertest.Unrouted(auth, "wrapped around the engine, authentication answers before gin (and the adapter) runs")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { routertest.Run(t, tt.wire, tt.cases) })
	}
}
