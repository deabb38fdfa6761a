package siem

// ECSVersion is the ECS version of the documents ECS returns.
const ECSVersion = "9.4.0"

// ECS field values the mapping writes.
const (
	// ECSDataset is event.dataset.
	ECSDataset = "psono.audit"
	// ECSModule is event.module.
	ECSModule = "psono"
	// ECSKwargPrefix starts the field of every kwarg: the custom namespace
	// psono.kwarg, outside ECS's field sets.
	ECSKwargPrefix = "psono.kwarg."
)

// ecsTime is @timestamp's layout: RFC 3339 with microseconds and the zone.
const ecsTime = "2006-01-02T15:04:05.999999Z07:00"

// ecsType returns event.type for a record. Logins are ["start"] and logouts
// ["end"] (ECS expects start, end or info in the authentication category);
// other events follow the method: access for GET and HEAD, creation for
// POST, change for PUT and PATCH, deletion for DELETE, info for any other,
// with denied added for a 401 or 403.
func ecsType(auth, logoff bool, method string, status int) []string {
	if auth {
		if logoff {
			return []string{"end"}
		}
		return []string{"start"}
	}
	var t []string
	switch method {
	case "GET", "HEAD":
		t = []string{"access"}
	case "POST":
		t = []string{"creation"}
	case "PUT", "PATCH":
		t = []string{"change"}
	case "DELETE":
		t = []string{"deletion"}
	default:
		t = []string{"info"}
	}
	if status == 401 || status == 403 {
		t = append(t, "denied")
	}
	return t
}

// ECS returns r as an ECS 9.4.0 document, as nested objects (the form
// Elasticsearch stores; Flatten gives the dotted names). It holds every
// field of the line in its place and the line itself as event.original and
// message; the kwargs go to the custom namespace psono.kwarg.<name>. A
// user_ip that is not an IP address goes to source.address and
// client.address instead of source.ip and client.ip. Fields the line
// writes as None are left out; event.outcome is then "unknown".
//
// The error, wrapping ErrRecord, is for a line without a valid time or
// event, or with a field that is not part of a record.
func ECS(r Record) (map[string]any, error) {
	f, err := read(&r)
	if err != nil {
		return nil, err
	}
	auth, logoff := login(f.event)
	category := "api"
	if auth {
		category = "authentication"
	}
	outcome := "unknown"
	switch f.success {
	case "True":
		outcome = "success"
	case "False":
		outcome = "failure"
	}
	event := map[string]any{
		"kind":     "event",
		"category": []string{category},
		"type":     ecsType(auth, logoff, f.method, f.status),
		"action":   f.event,
		"code":     f.event,
		"outcome":  outcome,
		"original": f.raw,
		"dataset":  ECSDataset,
		"module":   ECSModule,
	}
	d := map[string]any{
		"@timestamp": f.t.Format(ecsTime),
		"ecs":        map[string]any{"version": ECSVersion},
		"event":      event,
		"message":    f.raw,
	}
	if p := r.Position; p != nil {
		event["sequence"] = p.Index
		if uid := p.UID(); uid != "" {
			event["id"] = uid
		}
	}
	if f.user != "" || f.userID != "" {
		u := map[string]any{}
		if f.user != "" {
			u["name"] = f.user
		}
		if f.userID != "" {
			u["id"] = f.userID
		}
		d["user"] = u
	}
	if f.ip != "" {
		key, v := "address", f.ip
		if a, ok := ip(f.ip); ok {
			key, v = "ip", a
		}
		d["source"] = map[string]any{key: v}
		d["client"] = map[string]any{key: v}
	}
	http := map[string]any{}
	if f.method != "" {
		http["request"] = map[string]any{"method": f.method}
	}
	if f.status != 0 {
		http["response"] = map[string]any{"status_code": f.status}
	}
	if len(http) > 0 {
		d["http"] = http
	}
	if f.url != "" {
		d["url"] = map[string]any{"path": f.url}
	}
	if f.host != "" {
		d["host"] = map[string]any{"hostname": f.host}
	}
	if f.logger != "" {
		d["log"] = map[string]any{"logger": f.logger}
	}
	if r.TraceID != "" {
		d["trace"] = map[string]any{"id": r.TraceID}
	}
	if r.SpanID != "" {
		d["span"] = map[string]any{"id": r.SpanID}
	}
	if len(f.kwargs) > 0 {
		kw := make(map[string]any, len(f.kwargs))
		for _, p := range f.kwargs {
			kw[p.Key] = p.Value
		}
		d["psono"] = map[string]any{"kwarg": kw}
	}
	return d, nil
}

// Flatten returns the fields of a nested document under their dotted
// names: {"event": {"kind": "event"}} becomes {"event.kind": "event"}.
// Values that are not maps (strings, numbers, slices) are leaves.
func Flatten(doc map[string]any) map[string]any {
	out := make(map[string]any, 32)
	flatten(out, "", doc)
	return out
}

func flatten(out map[string]any, prefix string, m map[string]any) {
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			flatten(out, prefix+k+".", sub)
			continue
		}
		out[prefix+k] = v
	}
}
