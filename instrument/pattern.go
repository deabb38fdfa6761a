package instrument

import "github.com/otelaudit/otelaudit/instrument/internal/auditctx"

// patternInfo is what the middleware derives once from a route: a ServeMux
// pattern or a template a router adapter reported (see package
// instrument/route).
type patternInfo = auditctx.RouteInfo

func (a *auditHandler) pattern(pattern string) *patternInfo {
	return auditctx.Lookup("", pattern, true)
}

func defaultEvent(info *patternInfo, success bool) string {
	base := "REQUEST"
	if info != nil && info.Event != "" {
		base = info.Event
	}
	if success {
		return base + "_SUCCESS"
	}
	return base + "_ERROR"
}
