package instrument

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/otelaudit/otelaudit/psono"
	"go.opentelemetry.io/otel/attribute"
)

// patternInfo is what the middleware derives once from a route: a ServeMux
// pattern or a template a router adapter reported with SetRoute.
type patternInfo struct {
	wildcards []string                 // parameter names, in template order
	kwargKeys map[string]attribute.Key // parameter name -> kwarg attribute
	event     string                   // without the outcome suffix
	route     string                   // the http.route attribute
}

func (a *auditHandler) pattern(pattern string) *patternInfo {
	return routeInfo("", pattern, true)
}

// parsePattern reads the wildcard names and the default event from a
// ServeMux pattern "[METHOD ][HOST]/[PATH]".
func parsePattern(pattern string) *patternInfo {
	method, path, found := strings.Cut(pattern, " ")
	if !found {
		method, path = "", pattern
	}
	path = strings.TrimLeft(path, " \t")
	if i := strings.IndexByte(path, '/'); i >= 0 {
		path = path[i:] // drop the host
	}
	info := parseTemplate(method, path, false)
	info.route = pattern
	return info
}

// templates caches what parsePattern and parseTemplate derive from the
// routes: ServeMux patterns and the templates adapters report, for every
// handler of the process. Routes are registered templates, so the cache is
// as large as the route tables; it holds at most maxTemplates all the same,
// and a route past that is derived anew for each request.
var (
	templates     sync.Map // templateKey -> *patternInfo
	templateCount atomic.Int64
)

// maxTemplates bounds the route cache.
const maxTemplates = 4096

type templateKey struct {
	method, template string
	mux              bool // a ServeMux pattern, method included
}

func routeInfo(method, template string, mux bool) *patternInfo {
	k := templateKey{method, template, mux}
	if v, ok := templates.Load(k); ok {
		return v.(*patternInfo)
	}
	var info *patternInfo
	if mux {
		info = parsePattern(template)
	} else {
		info = parseTemplate(method, template, true)
		info.route = template
	}
	if templateCount.Load() >= maxTemplates {
		return info
	}
	v, loaded := templates.LoadOrStore(k, info)
	if !loaded {
		templateCount.Add(1)
	}
	return v.(*patternInfo)
}

// parseTemplate reads the parameter names and the default event from a
// route template. Parameters are written {name} and {name...} (ServeMux,
// chi, gorilla/mux), {name:regexp} (chi, gorilla/mux; the regexp may hold
// braces and slashes), and, when routerSyntax is set, :name (gin, echo),
// *name (gin) and a bare * (chi, echo), both at the start of a segment. A
// parameter's name is what is left of it without the regexp, the "..." and
// the leading ':' or '*'; a bare * is named "path". {$} is skipped.
func parseTemplate(method, path string, routerSyntax bool) *patternInfo {
	info := &patternInfo{kwargKeys: map[string]attribute.Key{}}
	var words []string
	if method != "" {
		words = append(words, method)
	}
	param := func(name string) {
		name = ParamName(name)
		words = append(words, name)
		if _, dup := info.kwargKeys[name]; !dup {
			info.wildcards = append(info.wildcards, name)
			info.kwargKeys[name] = psono.KwargAttr(psono.KwargName(name))
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
	info.event = eventWord(strings.Join(words, "_"))
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

// eventWord upper-cases s and replaces everything but letters and digits by
// '_', collapsing runs.
func eventWord(s string) string {
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

func defaultEvent(info *patternInfo, success bool) string {
	base := "REQUEST"
	if info != nil && info.event != "" {
		base = info.event
	}
	if success {
		return base + "_SUCCESS"
	}
	return base + "_ERROR"
}
