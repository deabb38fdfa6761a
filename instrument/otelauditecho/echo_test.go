package otelauditecho_test

import (
	"net"
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/otelaudit/otelaudit"
	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/instrument/otelauditecho"
	"github.com/otelaudit/otelaudit/instrument/route/routertest"
)

type router interface {
	GET(string, echo.HandlerFunc, ...echo.MiddlewareFunc) *echo.Route
	DELETE(string, echo.HandlerFunc, ...echo.MiddlewareFunc) *echo.Route
}

func standardRouter(r router) {
	r.GET("/items/:id/", func(c echo.Context) error {
		otelauditecho.SetUser(c, "demo", "7")
		otelauditecho.AddKwarg(c, "note", "x")
		otelauditecho.AddKwargValue(c, "ratio", 1.0)
		return nil
	})
	r.DELETE("/items/:id/", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	r.GET("/secret/", func(c echo.Context) error {
		instrument.SetEvent(c.Request().Context(), "READ_SECRET_ERROR")
		return echo.ErrUnauthorized
	})
	r.GET("/forbidden/:id/", func(c echo.Context) error { return echo.NewHTTPError(http.StatusForbidden, "no") })
	r.GET("/panic/", func(c echo.Context) error { panic("boom") })
	r.GET("/re/:id", func(c echo.Context) error { return nil })
	r.GET("/files/*", func(c echo.Context) error { return nil })
}

func TestEcho(t *testing.T) {
	std := routertest.Standard("GET_FILES_PATH_SUCCESS", "path", "a/b.txt")
	tests := []struct {
		name  string
		wire  func(a *otelaudit.Auditor) http.Handler
		cases []routertest.Case
	}{
		{"Recover middleware", func(a *otelaudit.Auditor) http.Handler {
			e := echo.New()
			e.Use(otelauditecho.Middleware(), middleware.Recover())
			standardRouter(e)
			return a.Handler(e)
		}, std},
		{"no recovery, group", func(a *otelaudit.Auditor) http.Handler {
			e := echo.New()
			e.Use(otelauditecho.Middleware())
			standardRouter(e.Group(""))
			return a.Handler(e)
		}, std},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { routertest.Run(t, tt.wire, tt.cases) })
	}
}

// deny is routertest.Deny as echo middleware.
func deny(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if routertest.Denied(c.Request()) {
			return echo.NewHTTPError(http.StatusForbidden, "denied")
		}
		return next(c)
	}
}

// TestEchoAuthBeforeRouting: authentication that refuses with 403 names
// the route, with decoded parameters, registered with e.Use after the
// adapter (echo has routed by then) and registered with e.Pre after an
// adapter registered with e.Pre (echo has not routed: the adapter asks its
// router).
func TestEchoAuthBeforeRouting(t *testing.T) {
	std := routertest.Standard("GET_FILES_PATH_SUCCESS", "path", "a/b.txt")
	auth := routertest.AuthBeforeRouting("GET_FILES_PATH_SUCCESS", "path", "a/b.txt")
	tests := []struct {
		name  string
		wire  func(a *otelaudit.Auditor) http.Handler
		cases []routertest.Case
	}{
		{"e.Use", func(a *otelaudit.Auditor) http.Handler {
			e := echo.New()
			e.Use(otelauditecho.Middleware(), deny)
			standardRouter(e)
			return a.Handler(e)
		}, auth},
		{"e.Pre", func(a *otelaudit.Auditor) http.Handler {
			e := echo.New()
			e.Pre(otelauditecho.Middleware(), deny)
			standardRouter(e)
			return a.Handler(e)
		}, append(std, auth...)},
		{"e.Pre, host router", func(a *otelaudit.Auditor) http.Handler {
			e := echo.New()
			e.Pre(otelauditecho.Middleware(), deny)
			e.GET("/items/:other/", func(c echo.Context) error { return c.NoContent(http.StatusTeapot) }) // not this one
			standardRouter(e.Host("127.0.0.1"))
			return a.Handler(hostOnly(e))
		}, auth[:3]},
		// The documented limits: the adapter does not run for the refused
		// request.
		{"limit: authentication in e.Pre, the adapter in e.Use", func(a *otelaudit.Auditor) http.Handler {
			e := echo.New()
			e.Pre(deny)
			e.Use(otelauditecho.Middleware())
			standardRouter(e)
			return a.Handler(e)
		}, routertest.Unrouted(auth, "e.Pre middleware answers before echo routes and before e.Use middleware runs")},
		{"limit: authentication before the adapter", func(a *otelaudit.Auditor) http.Handler {
			e := echo.New()
			e.Use(deny, otelauditecho.Middleware())
			standardRouter(e)
			return a.Handler(e)
		}, routertest.Unrouted(auth, "registered before otelauditecho.Middleware, authentication answers before the adapter runs")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { routertest.Run(t, tt.wire, tt.cases) })
	}
}

// hostOnly serves h with the request's Host stripped of its port, as the
// host routers of echo are keyed.
func hostOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if host, _, err := net.SplitHostPort(r.Host); err == nil {
			r.Host = host
		}
		h.ServeHTTP(w, r)
	})
}
