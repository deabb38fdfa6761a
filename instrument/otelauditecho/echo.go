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
// Parameter values are recorded decoded, as Psono records them: echo
// matches the escaped path (URL.RawPath, when the request has one) and
// hands its handlers the escaped values (c.Param gives "a%2C%20b"); the
// record gets them through url.PathUnescape ("a, b"). A value that is not
// valid percent-encoding (which net/http's server never lets through, but
// code in process may set in URL.RawPath) is recorded as it is. A value
// echo matched in the decoded path (a request without RawPath) is never
// decoded twice. echo's own c.Param stays escaped: a handler that looks a
// value up should decode it the same way.
//
// Authentication registered with e.Use after Middleware runs after echo
// routed the request, so its 401 or 403 has the route. Middleware answering
// before routing (registered with e.Pre) is seen only by a Middleware
// registered with e.Pre before it: e.Pre(otelauditecho.Middleware(), auth).
// When echo did not route the request, Middleware asks echo's router for
// the route it would have served (Router.Find, which serves nothing). A
// Middleware registered after the middleware that answers (with e.Use after
// it, or with e.Use when it answers in e.Pre), or an authentication wrapped
// around the echo server, never runs for the refused request: its line
// says REQUEST_ERROR with no kwargs.
//
// This package is its own module, so that a service that does not use echo
// never gets echo in its module graph.
package otelauditecho

import (
	"context"
	"net/url"
	"reflect"

	"github.com/labstack/echo/v4"

	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/instrument/route"
)

var (
	notFound         = reflect.ValueOf(echo.NotFoundHandler).Pointer()
	methodNotAllowed = reflect.ValueOf(echo.MethodNotAllowedHandler).Pointer()
)

// Middleware returns the echo middleware that reports the matched route
// when the handler returns (or panics). Register it first, with e.Use, or
// with e.Pre when middleware registered with e.Pre may answer by itself.
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
	tpl, names, values, h := c.Path(), c.ParamNames(), c.ParamValues(), c.Handler()
	if tpl == "" {
		// echo did not route the request: e.Pre middleware answered.
		f := find(c)
		if f == nil {
			return
		}
		tpl, names, values, h = f.Path(), f.ParamNames(), f.ParamValues(), f.Handler()
		if tpl == "" {
			return
		}
	}
	if h != nil {
		if p := reflect.ValueOf(h).Pointer(); p == notFound || p == methodNotAllowed {
			return // echo's 404 and 405: no route matched
		}
	}
	escaped := c.Request().URL.RawPath != "" // echo routed URL.RawPath: its values are escaped
	params := make([]route.Param, 0, len(names))
	for i, n := range names {
		if i < len(values) {
			v := values[i]
			if escaped {
				v = unescape(v)
			}
			params = append(params, route.Param{Name: n, Value: v})
		}
	}
	route.Set(ctx, c.Request().Method, tpl, params...)
}

// find returns a new context holding the route echo's router (the one
// echo picks for the request's host) gives the request, without serving
// it; nil when c belongs to no Echo.
func find(c echo.Context) echo.Context {
	e := c.Echo()
	if e == nil {
		return nil
	}
	r := c.Request()
	router := e.Router()
	if rt, ok := e.Routers()[r.Host]; ok {
		router = rt
	}
	f := e.NewContext(r, nil)
	router.Find(r.Method, echo.GetPath(r), f)
	return f
}

// unescape decodes a value echo matched in the escaped path, or returns it
// as it is when it is not valid percent-encoding.
func unescape(v string) string {
	if d, err := url.PathUnescape(v); err == nil {
		return d
	}
	return v
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
