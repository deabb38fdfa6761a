// Package otelauditecho reports the route of an echo server to the
// otelaudit audit record of each request, so the record gets its default
// event from the route (c.Path()) and its kwargs from the path parameters,
// and gives the instrument setters for an echo.Context.
//
//	e := echo.New()
//	e.Use(otelauditecho.Middleware())
//	e.GET("/datastore/:datastore_id/", func(c echo.Context) error {
//		otelauditecho.SetEvent(c, "LIST_DATASTORE_SUCCESS")
//		return c.JSON(http.StatusOK, ds)
//	})
//	http.ListenAndServe(addr, auditor.Handler(e)) // the audit handler outermost
//
// Wrap the echo server in the audit handler (auditor.Handler(e)); never add
// the audit handler with e.Use(echo.WrapMiddleware(auditor.Handler)): echo
// writes a returned error's status (its HTTPErrorHandler) after the
// middleware chain returned, so such a record would not know the status the
// client got.
//
// Parameter names: :id gives kwarg_id, the catch-all * gives kwarg_path.
// The event's method is the request's, which echo only routes to a route
// registered for it (or for every method, with Any). echo's own 404 and 405
// report no route (REQUEST_ERROR).
//
// This package is its own module, so that a service that does not use echo
// never gets echo in its module graph.
package otelauditecho

import (
	"context"
	"reflect"

	"github.com/labstack/echo/v4"

	"github.com/otelaudit/otelaudit/instrument"
)

var (
	notFound         = reflect.ValueOf(echo.NotFoundHandler).Pointer()
	methodNotAllowed = reflect.ValueOf(echo.MethodNotAllowedHandler).Pointer()
)

// Middleware returns the echo middleware that reports the matched route
// when the handler returns (or panics). Register it with e.Use.
func Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ctx := c.Request().Context()
			defer report(ctx, c)
			return next(c)
		}
	}
}

func report(ctx context.Context, c echo.Context) {
	tpl := c.Path()
	if tpl == "" {
		return
	}
	if h := c.Handler(); h != nil {
		if p := reflect.ValueOf(h).Pointer(); p == notFound || p == methodNotAllowed {
			return // echo's 404 and 405: no route matched
		}
	}
	names, values := c.ParamNames(), c.ParamValues()
	params := make([]instrument.Param, 0, len(names))
	for i, n := range names {
		if i < len(values) {
			params = append(params, instrument.Param{Name: n, Value: values[i]})
		}
	}
	instrument.SetRoute(ctx, c.Request().Method, tpl, params...)
}

// Context returns the request's context, which holds its audit record: the
// context the instrument functions take.
func Context(c echo.Context) context.Context { return c.Request().Context() }

// SetEvent is instrument.SetEvent for an echo.Context.
func SetEvent(c echo.Context, code string) { instrument.SetEvent(Context(c), code) }

// SetLogger is instrument.SetLogger for an echo.Context.
func SetLogger(c echo.Context, name string) { instrument.SetLogger(Context(c), name) }

// SetUser is instrument.SetUser for an echo.Context.
func SetUser(c echo.Context, name, id string) { instrument.SetUser(Context(c), name, id) }

// AddKwarg is instrument.AddKwarg for an echo.Context.
func AddKwarg(c echo.Context, name, value string) { instrument.AddKwarg(Context(c), name, value) }

// AddKwargValue is instrument.AddKwargValue for an echo.Context.
func AddKwargValue(c echo.Context, name string, value any) {
	instrument.AddKwargValue(Context(c), name, value)
}
