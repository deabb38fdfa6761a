package auditctx

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/otelaudit/otelaudit/psono"
	"go.opentelemetry.io/otel/attribute"
)

// RouteInfo is what the middleware derives once from a route: a ServeMux
// pattern or a template a router adapter reported (route.Set).
type RouteInfo struct {
	Wildcards []string                 // parameter names, in template order
	KwargKeys map[string]attribute.Key // parameter name -> kwarg attribute
	Event     string                   // without the outcome suffix
	Route     string                   // the http.route attribute

	once sync.Once
	mux  *http.ServeMux // see Mux
}

// Mux returns a ServeMux holding only the route, a ServeMux pattern Lookup
// was given with mux set, with a handler that does nothing: serving a
// request to it sets the request's Pattern and path values as the ServeMux
// the pattern was registered with does. It is built once per route the
// cache holds, so the route cache is the only one, bounded at maxTemplates.
func (i *RouteInfo) Mux() *http.ServeMux {
	i.once.Do(func() {
		m := http.NewServeMux()
		m.HandleFunc(i.Route, func(http.ResponseWriter, *http.Request) {})
		i.mux = m
	})
	return i.mux
}

// ParsePattern reads the wildcard names and the default event from a
// ServeMux pattern "[METHOD ][HOST]/[PATH]".
func ParsePattern(pattern string) *RouteInfo {
	method, path, found := strings.Cut(pattern, " ")
	if !found {
		method, path = "", pattern
	}
	path = strings.TrimLeft(path, " \t")
	if i := strings.IndexByte(path, '/'); i >= 0 {
		path = path[i:] // drop the host
	}
	info := ParseTemplate(method, path, false)
	info.Route = pattern
	return info
}

// templates caches what ParsePattern and ParseTemplate derive from the
// routes: ServeMux patterns and the templates adapters report, for every
// handler of the process. Routes are registered templates, so the cache is
// as large as the route tables; it holds at most maxTemplates all the same,
// and a route past that is derived anew for each request.
var (
	templates     sync.Map // templateKey -> *RouteInfo
	templateCount atomic.Int64
)

// maxTemplates bounds the route cache.
const maxTemplates = 4096

type templateKey struct {
	method, template string
	mux              bool // a ServeMux pattern, method included
}

// Lookup returns what is derived from a route, from the cache when it
// holds it: from a ServeMux pattern when mux is set, else from a router's
// template and the method it was registered for ("" for every method).
func Lookup(method, template string, mux bool) *RouteInfo {
	k := templateKey{method, template, mux}
	if v, ok := templates.Load(k); ok {
		return v.(*RouteInfo)
	}
	var info *RouteInfo
	if mux {
		info = ParsePattern(template)
	} else {
		info = ParseTemplate(method, template, true)
		info.Route = template
	}
	if templateCount.Load() >= maxTemplates {
		return info
	}
	v, loaded := templates.LoadOrStore(k, info)
	if !loaded {
		templateCount.Add(1)
	}
	return v.(*RouteInfo)
}

// ParseTemplate reads the parameter names and the default event from a
// route template. Parameters are written {name} and {name...} (ServeMux,
// chi, gorilla/mux), {name:regexp} (chi, gorilla/mux; the regexp may hold
// braces and slashes), and, when routerSyntax is set, :name (gin, echo),
// *name (gin) and a bare * (chi, echo), both at the start of a segment. A
// parameter's name is what is left of it without the regexp, the "..." and
// the leading ':' or '*'; a bare * is named "path". {$} is skipped.
func ParseTemplate(method, path string, routerSyntax bool) *RouteInfo {
	info := &RouteInfo{KwargKeys: map[string]attribute.Key{}}
	var words []string
	if method != "" {
		words = append(words, method)
	}
	param := func(name string) {
		name = ParamName(name)
		words = append(words, name)
		if _, dup := info.KwargKeys[name]; !dup {
			info.Wildcards = append(info.Wildcards, name)
			info.KwargKeys[name] = psono.KwargAttr(psono.KwargName(name))
		}
	}
	segStart := true
	lit := 0 // start of the current literal run
	flush := func(end int) {
		if end > lit {
			words = append(words, path[lit:end])
		}
	}
	for i := 0; i < len(path); {
		c := path[i]
		switch {
		case c == '/':
			flush(i)
			i++
			lit, segStart = i, true
			continue
		case c == '{':
			end, depth := i+1, 1
			for ; end < len(path) && depth > 0; end++ {
				switch path[end] {
				case '{':
					depth++
				case '}':
					depth--
				}
			}
			flush(i)
			inner := strings.TrimSuffix(path[i+1:end], "}")
			if inner != "$" {
				param(inner)
			}
			i, lit = end, end
		case routerSyntax && segStart && (c == ':' || c == '*'):
			end := i + 1
			for end < len(path) && path[end] != '/' {
				end++
			}
			param(path[i:end])
			i, lit = end, end
		default:
			i++
		}
		segStart = false
	}
	flush(len(path))
	if len(words) == 0 || len(words) == 1 && method != "" {
		words = append(words, "ROOT")
	}
	info.Event = EventWord(strings.Join(words, "_"))
	return info
}

// ParamName is the kwarg name of a route parameter as a router names it:
// without a regexp ("id:[0-9]+" gives "id"), a trailing "..." or a leading
// ':' or '*' ("*filepath" gives "filepath"); a bare "*" (the catch-all of
// chi and echo) gives "path".
func ParamName(name string) string {
	if i := strings.IndexByte(name, ':'); i > 0 {
		name = name[:i]
	}
	name = strings.TrimSuffix(name, "...")
	name = strings.TrimLeft(name, ":*")
	name = strings.TrimSpace(name)
	if name == "" {
		return "path"
	}
	return name
}

// EventWord upper-cases s and replaces everything but letters and digits by
// '_', collapsing runs.
func EventWord(s string) string {
	var b strings.Builder
	under := false
	for _, c := range strings.ToUpper(s) {
		if 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			b.WriteRune(c)
			under = false
		} else if !under && b.Len() > 0 {
			b.WriteByte('_')
			under = true
		}
	}
	return strings.TrimSuffix(b.String(), "_")
}
