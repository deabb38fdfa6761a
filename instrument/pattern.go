package instrument

import (
	"strings"

	"github.com/otelaudit/otelaudit/psono"
	"go.opentelemetry.io/otel/attribute"
)

// patternInfo is what the middleware derives once from a ServeMux pattern.
type patternInfo struct {
	wildcards []string
	kwargKeys map[string]attribute.Key
	event     string // without the outcome suffix
}

func (a *auditHandler) pattern(pattern string) *patternInfo {
	if v, ok := a.patterns.Load(pattern); ok {
		return v.(*patternInfo)
	}
	info := parsePattern(pattern)
	v, _ := a.patterns.LoadOrStore(pattern, info)
	return v.(*patternInfo)
}

// parsePattern reads the wildcard names and the default event from a
// ServeMux pattern "[METHOD ][HOST]/[PATH]".
func parsePattern(pattern string) *patternInfo {
	info := &patternInfo{kwargKeys: map[string]attribute.Key{}}
	method, path, found := strings.Cut(pattern, " ")
	if !found {
		method, path = "", pattern
	}
	path = strings.TrimLeft(path, " \t")
	if i := strings.IndexByte(path, '/'); i >= 0 {
		path = path[i:] // drop the host
	}
	var words []string
	if method != "" {
		words = append(words, method)
	}
	for _, seg := range strings.Split(path, "/") {
		if seg == "" || seg == "{$}" {
			continue
		}
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			name := strings.TrimSuffix(seg[1:len(seg)-1], "...")
			if _, dup := info.kwargKeys[name]; !dup && name != "" {
				info.wildcards = append(info.wildcards, name)
				info.kwargKeys[name] = psono.KwargAttr(psono.KwargName(name))
			}
			words = append(words, name)
			continue
		}
		words = append(words, seg)
	}
	if len(words) == 0 || len(words) == 1 && method != "" {
		words = append(words, "ROOT")
	}
	info.event = eventWord(strings.Join(words, "_"))
	return info
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
