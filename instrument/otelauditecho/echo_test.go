package otelauditecho_test

import (
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/otelaudit/otelaudit"
	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/instrument/otelauditecho"
	"github.com/otelaudit/otelaudit/internal/routertest"
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
