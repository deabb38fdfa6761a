package instrument

import (
	"net/http"
	pathpkg "path"
	"strings"

	"github.com/otelaudit/otelaudit/instrument/internal/auditctx"
)

// Routes wraps h, a ServeMux (or any handler that sets Request.Pattern and
// the path values on the request it is given), so that the route it matched
// reaches the request's audit record however the request travelled to it:
// behind middleware that passes on r.WithContext(...), behind
// http.StripPrefix, as a mux nested in another. When h returns (or panics)
// Routes reports the matched pattern and each of its wildcards, with their
// values, as route.Set does; a redirect that ServeMux makes itself (a
// trailing slash added, a path cleaned) reports nothing, as no route's
// handler ran. Wrap the mux itself, innermost:
//
//	auditor.Handler(authenticate(instrument.Routes(mux)))
//
// The ServeMux that NewHandler (Auditor.Handler) wraps directly needs no
// Routes.
func Routes(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer reportPattern(r)
		h.ServeHTTP(w, r)
	})
}

func reportPattern(r *http.Request) {
	if r.Pattern == "" || muxRedirected(r) {
		return // no route matched (404, 405), or ServeMux redirected
	}
	rec := auditctx.Of(r.Context(), "instrument.Routes")
	if rec == nil {
		return
	}
	info := auditctx.Lookup("", r.Pattern, true)
	rec.SetRoute(info, muxParams(info, r))
}

// muxParams returns the wildcards of a ServeMux pattern with their values.
func muxParams(info *patternInfo, r *http.Request) []auditctx.Param {
	if len(info.Wildcards) == 0 {
		return nil
	}
	params := make([]auditctx.Param, len(info.Wildcards))
	for i, name := range info.Wildcards {
		params[i] = auditctx.Param{Name: name, Value: r.PathValue(name)}
	}
	return params
}

// muxRedirected reports whether the ServeMux that set r.Pattern answered r
// with a redirect of its own (307) instead of calling the pattern's handler:
// to the path with a trailing slash added ("/datastore/X" to
// "/datastore/X/", when only the latter matches a pattern) or to the
// cleaned path ("/a/../b/" to "/b/"). ServeMux then sets r.Pattern to the
// pattern of the path it redirects to, or for CONNECT to that path itself,
// which the client chose, and sets none of the pattern's wildcards: the
// request has no route.
//
// It decides from r as ServeMux matched it (net/http's findHandler, Go 1.22
// and later): a path other than CONNECT's that cleaning changes is always
// redirected; for CONNECT, whose path ServeMux does not clean, the pattern
// it sets for a redirect is the cleaned path with a slash added; and a
// pattern holds a '/' for each segment it matches, so a pattern that
// matched the path itself holds no more '/' than the path, while the
// pattern of a trailing-slash redirect holds one more. (A registered
// pattern that a CONNECT path with dot segments matches, and that equals
// its redirect target, is taken for a redirect: its record is that of an
// unrouted request, never one with an event the client chose.)
func muxRedirected(r *http.Request) bool {
	path := r.URL.EscapedPath()
	if r.Method == http.MethodConnect {
		if !strings.HasSuffix(path, "/") && r.Pattern == cleanPath(r.URL.Path)+"/" {
			return true
		}
	} else if cleanPath(path) != path {
		return true
	}
	return strings.Count(r.Pattern, "/") > strings.Count(path, "/")
}

// cleanPath is net/http's: the canonical path of p, with a leading '/',
// without . and .. elements or repeated slashes, keeping a trailing slash.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := pathpkg.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		if len(p) == len(np)+1 && strings.HasPrefix(p, np) {
			return p // the common case, without an allocation
		}
		np += "/"
	}
	return np
}
