// Command routers is the otelaudit demo (the Psono API of examples/server)
// served through the router -router names, each with its otelaudit adapter:
//
//	cd examples/routers && go run . -router servemux|chi|gorilla|gin|echo [-settings FILE] [-listen ADDR]
//
// It is its own module, so that chi, gorilla/mux, gin and echo stay out of
// the module graph of otelaudit itself. Every router gives the same audit
// lines for the same requests.
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/gin-gonic/gin"
	"github.com/go-chi/chi/v5"
	"github.com/gorilla/mux"
	"github.com/labstack/echo/v4"

	"github.com/otelaudit/otelaudit"
	"github.com/otelaudit/otelaudit/instrument/otelauditchi"
	"github.com/otelaudit/otelaudit/instrument/otelauditecho"
	"github.com/otelaudit/otelaudit/instrument/otelauditgin"
	"github.com/otelaudit/otelaudit/instrument/otelauditgorilla"
	"github.com/otelaudit/otelaudit/internal/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "routers:", err)
		os.Exit(1)
	}
}

var routers = map[string]demo.Wire{
	"servemux": demo.ServeMux,
	"chi":      chiRouter,
	"gorilla":  gorillaRouter,
	"gin":      ginRouter,
	"echo":     echoRouter,
}

func run(ctx context.Context, args []string, logw io.Writer, ready chan<- string) error {
	return demo.Run(ctx, args, logw, ready, routers, "unknown router; want servemux, chi, gorilla, gin or echo",
		"../server/settings.yaml")
}

// template rewrites a demo path's {name} parameters as :name (gin, echo).
func template(path string) string {
	return strings.NewReplacer("{", ":", "}", "").Replace(path)
}

// pathValue decodes a parameter value a router matched in the escaped path
// (escaped: the request has a URL.RawPath), as ServeMux, gorilla/mux and gin
// hand them over; a value that is not valid percent-encoding stays as it is.
// The adapters record the values decoded by themselves: this is for the
// demo's handlers, which look the ids up.
func pathValue(escaped bool, v string) string {
	if escaped {
		if d, err := url.PathUnescape(v); err == nil {
			return d
		}
	}
	return v
}

func chiRouter(api *demo.API, a *otelaudit.Auditor) http.Handler {
	r := chi.NewRouter()
	r.Use(otelauditchi.Middleware)
	for _, rt := range api.Routes() {
		h := rt.Handler
		r.Method(rt.Method, rt.Path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// chi sets r.PathValue itself, escaped when it routed URL.RawPath.
			p := chi.RouteContext(r.Context()).URLParams
			for i, k := range p.Keys {
				r.SetPathValue(k, pathValue(r.URL.RawPath != "", p.Values[i]))
			}
			h(w, r)
		}))
	}
	return a.Handler(r)
}

func gorillaRouter(api *demo.API, a *otelaudit.Auditor) http.Handler {
	r := mux.NewRouter()
	r.Use(otelauditgorilla.Middleware)
	for _, rt := range api.Routes() {
		h := rt.Handler
		r.HandleFunc(rt.Path, func(w http.ResponseWriter, r *http.Request) {
			for k, v := range mux.Vars(r) {
				r.SetPathValue(k, v)
			}
			h(w, r)
		}).Methods(rt.Method)
	}
	return a.Handler(r)
}

func ginRouter(api *demo.API, a *otelaudit.Auditor) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.Use(otelauditgin.Middleware(), gin.Recovery())
	for _, rt := range api.Routes() {
		h := rt.Handler
		r.Handle(rt.Method, template(rt.Path), func(c *gin.Context) {
			for _, p := range c.Params {
				c.Request.SetPathValue(p.Key, p.Value)
			}
			h(c.Writer, c.Request)
		})
	}
	return a.Handler(r)
}

func echoRouter(api *demo.API, a *otelaudit.Auditor) http.Handler {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Use(otelauditecho.Middleware())
	for _, rt := range api.Routes() {
		h := rt.Handler
		e.Add(rt.Method, template(rt.Path), func(c echo.Context) error {
			for i, n := range c.ParamNames() {
				c.Request().SetPathValue(n, pathValue(c.Request().URL.RawPath != "", c.ParamValues()[i]))
			}
			h(c.Response(), c.Request())
			return nil
		})
	}
	return a.Handler(e)
}
