package otelaudit_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/otelaudit/otelaudit"
	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/instrument/route"
	"github.com/otelaudit/otelaudit/instrument/route/routertest"
)

// authenticate stands for every middleware that passes the request on with
// a new context.
type ctxKey struct{}

func authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, "user")))
	})
}

// TestServeMuxRoutes: the standard table through a ServeMux wrapped
// directly, behind r.WithContext middleware and behind StripPrefix in a
// nested mux (both wrapped in instrument.Routes), and the same wiring
// without Routes, which loses the route (the case Routes exists for).
func TestServeMuxRoutes(t *testing.T) {
	std := routertest.Standard("GET_FILES_PATH_SUCCESS", "path", "a/b.txt")
	// Behind StripPrefix the outer mux's "/api/" matched what the inner
	// one refused: the innermost route that matched names the event.
	prefixed := func(cs []routertest.Case) []routertest.Case {
		out := make([]routertest.Case, len(cs))
		for i, c := range cs {
			c.Path = "/api" + c.Path
			if c.Event == "REQUEST_ERROR" {
				c.Event = "API_ERROR"
			}
			out[i] = c
		}
		return out
	}
	nested := func(inner http.Handler) http.Handler {
		outer := http.NewServeMux()
		outer.Handle("/api/", http.StripPrefix("/api", inner))
		return outer
	}
	tests := []struct {
		name  string
		wire  func(a *otelaudit.Auditor) http.Handler
		cases []routertest.Case
	}{
		{"direct", func(a *otelaudit.Auditor) http.Handler { return a.Handler(routertest.ServeMux()) }, std},
		{"direct with Routes", func(a *otelaudit.Auditor) http.Handler { return a.Handler(instrument.Routes(routertest.ServeMux())) }, std},
		{"WithContext middleware", func(a *otelaudit.Auditor) http.Handler {
			return a.Handler(authenticate(instrument.Routes(routertest.ServeMux())))
		}, std},
		{"StripPrefix nested mux", func(a *otelaudit.Auditor) http.Handler {
			return a.Handler(instrument.Routes(nested(authenticate(instrument.Routes(routertest.ServeMux())))))
		}, prefixed(std)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { routertest.Run(t, tt.wire, tt.cases) })
	}
}

// TestRoutesNeeded shows what instrument.Routes fixes: behind r.WithContext
// middleware the audit handler never sees the mux's pattern.
func TestRoutesNeeded(t *testing.T) {
	routertest.Run(t, func(a *otelaudit.Auditor) http.Handler { return a.Handler(authenticate(routertest.ServeMux())) },
		[]routertest.Case{{Name: "no route", Method: "GET", Path: "/re/5", Status: 200, Event: "REQUEST_SUCCESS"}})
}

// TestTimeoutHandlerOrder: with the audit handler outside
// http.TimeoutHandler the line says 503, the status the client got. The
// handler is still running when the record is emitted, so its route is not
// known yet: the event is REQUEST_ERROR.
func TestTimeoutHandlerOrder(t *testing.T) {
	release := make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release })
	defer close(release)
	routertest.Run(t, func(a *otelaudit.Auditor) http.Handler {
		mux := http.NewServeMux()
		mux.Handle("GET /slow/", slow)
		return a.Handler(http.TimeoutHandler(instrument.Routes(mux), 1, "timeout"))
	}, []routertest.Case{{Name: "timeout", Method: "GET", Path: "/slow/", Status: 503, Event: "REQUEST_ERROR"}})
}

// TestSetRouteNeutralises: a method a client can invent never enters an
// event, and only the first report of a request counts.
func TestSetRouteNeutralises(t *testing.T) {
	h := func(w http.ResponseWriter, r *http.Request) {
		m := strings.TrimPrefix(r.URL.Path, "/")
		route.Set(r.Context(), m, "/x/{id:[0-9]{2}/?}/{rest...}", route.Param{Name: "id:[0-9]{2}/?", Value: "12"},
			route.Param{Name: "rest...", Value: "r"})
		route.Set(r.Context(), "GET", "/later/")
	}
	routertest.Run(t, func(a *otelaudit.Auditor) http.Handler { return a.Handler(http.HandlerFunc(h)) }, []routertest.Case{
		{Name: "invented", Method: "GET", Path: "/BREW", Status: 200, Event: "X_ID_REST_SUCCESS", Kwargs: map[string]string{"id": "12", "rest": "r"}},
		{Name: "standard", Method: "GET", Path: "/DELETE", Status: 200, Event: "DELETE_X_ID_REST_SUCCESS", Kwargs: map[string]string{"id": "12", "rest": "r"}},
	})
}
