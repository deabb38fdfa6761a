package siem

// OCSFVersion is the OCSF schema version of the events OCSF returns.
const OCSFVersion = "1.8.0"

// The OCSF classes the records map to.
const (
	// ClassAuthentication is Authentication (category 3, Identity & Access
	// Management): events starting LOGIN_ or LOGOUT_.
	ClassAuthentication = 3002
	// ClassAPIActivity is API Activity (category 6, Application Activity):
	// every other event.
	ClassAPIActivity = 6003
)

// anonymous is the user of a request without an authenticated user, where
// the class requires one (OCSF user needs a name or a uid).
func anonymous() map[string]any {
	return map[string]any{"name": "anonymous", "type_id": 0, "type": "Unknown"}
}

// httpMethods are the values of OCSF's http_request.http_method enum.
var httpMethods = map[string]bool{
	"CONNECT": true, "DELETE": true, "GET": true, "HEAD": true, "OPTIONS": true,
	"PATCH": true, "POST": true, "PUT": true, "TRACE": true,
}

// apiActivity returns the API Activity activity of an HTTP method, with
// its name: for 99 Other, the method itself (OCSF's sibling convention).
func apiActivity(method string) (int, string) {
	switch method {
	case "GET", "HEAD":
		return 2, "Read"
	case "POST":
		return 1, "Create"
	case "PUT", "PATCH":
		return 3, "Update"
	case "DELETE":
		return 4, "Delete"
	case "":
		return 0, "Unknown"
	}
	return 99, method
}

// OCSF returns r as an OCSF 1.8.0 event: Authentication (3002) for events
// starting LOGIN_ or LOGOUT_, API Activity (6003) for the others. The
// event holds every field of the line in its place, the line itself as
// raw_data, the kwargs under unmapped as kwarg_<name>, and what the class
// has no place for under unmapped too: a method outside OCSF's list
// (req_method), a user_ip that is not an IP address (user_ip, and the
// endpoint's name), and for Authentication, which has no trace profile, the
// trace context (trace_id, span_id). OCSF's span object needs the span's
// start and end, which a record does not carry, so the span id is always
// unmapped.span_id.
//
// Fields the line writes as None are left out. A request without an
// authenticated user has the user {"name": "anonymous", "type_id": 0}
// where the class requires one (API Activity's actor.user, Authentication's
// user).
//
// The error, wrapping ErrRecord, is for a line without a valid time or
// event, or with a field that is not part of a record.
func OCSF(r Record) (map[string]any, error) {
	f, err := read(&r)
	if err != nil {
		return nil, err
	}
	auth, logoff := login(f.event)
	unmapped := map[string]any{}

	e := map[string]any{
		"time":        f.t.UnixMilli(),
		"severity_id": 1,
		"severity":    "Informational",
		"raw_data":    f.raw,
		// The datetime profile's time_dt keeps the line's microseconds,
		// which time (epoch milliseconds) drops.
		"time_dt": f.t.Format(ecsTime),
	}
	_, offset := f.t.Zone()
	e["timezone_offset"] = offset / 60
	var classUID, activityID int
	var className, activityName string
	if auth {
		classUID, className = ClassAuthentication, "Authentication"
		e["category_uid"], e["category_name"] = 3, "Identity & Access Management"
		activityID, activityName = 1, "Logon"
		if logoff {
			activityID, activityName = 2, "Logoff"
		}
	} else {
		classUID, className = ClassAPIActivity, "API Activity"
		e["category_uid"], e["category_name"] = 6, "Application Activity"
		activityID, activityName = apiActivity(f.method)
	}
	e["class_uid"], e["class_name"] = classUID, className
	e["activity_id"], e["activity_name"] = activityID, activityName
	e["type_uid"] = classUID*100 + activityID
	typeName := activityName
	if activityID == 99 {
		typeName = "Other"
	}
	e["type_name"] = className + ": " + typeName

	switch f.success {
	case "True":
		e["status_id"], e["status"] = 1, "Success"
	case "False":
		e["status_id"], e["status"] = 2, "Failure"
	default:
		e["status_id"], e["status"] = 0, "Unknown"
	}
	if f.statusName != "" {
		e["status_code"] = f.statusName
	}

	meta := map[string]any{
		"version":    OCSFVersion,
		"product":    map[string]any{"name": Product.Name, "vendor_name": Product.Vendor, "version": Product.Version},
		"event_code": f.event,
		"log_name":   "audit.log",
	}
	profiles := []string{"datetime"}
	if p := r.Position; p != nil {
		meta["sequence"] = p.Index
		if uid := p.UID(); uid != "" {
			meta["uid"] = uid
		}
	}
	e["metadata"] = meta

	var user map[string]any
	if f.user != "" || f.userID != "" {
		user = map[string]any{"type_id": 1, "type": "User"}
		if f.user != "" {
			user["name"] = f.user
		}
		if f.userID != "" {
			user["uid"] = f.userID
		}
	}

	if f.ip != "" {
		if a, ok := ip(f.ip); ok {
			e["src_endpoint"] = map[string]any{"ip": a}
		} else {
			e["src_endpoint"] = map[string]any{"name": f.ip}
			unmapped["user_ip"] = f.ip
		}
	} else if !auth {
		// API Activity requires src_endpoint; the line did not know it.
		e["src_endpoint"] = map[string]any{"name": "None"}
	}
	if f.host != "" {
		e["dst_endpoint"] = map[string]any{"hostname": f.host}
	}
	if f.method != "" || f.url != "" {
		req := map[string]any{}
		if httpMethods[f.method] {
			req["http_method"] = f.method
		} else if f.method != "" {
			unmapped["req_method"] = f.method
		}
		if f.url != "" {
			req["url"] = map[string]any{"path": f.url}
		}
		if len(req) > 0 {
			e["http_request"] = req
		}
	}
	if f.status != 0 {
		e["http_response"] = map[string]any{"code": f.status}
	}

	if auth {
		if user == nil {
			user = anonymous()
		}
		e["user"] = user
		if f.logger != "" {
			e["service"] = map[string]any{"name": f.logger}
		} else if f.host == "" {
			e["service"] = map[string]any{"name": "None"} // at_least_one: service, dst_endpoint
		}
		if r.TraceID != "" {
			unmapped["trace_id"] = r.TraceID
		}
	} else {
		if user == nil {
			user = anonymous()
		}
		e["actor"] = map[string]any{"user": user}
		api := map[string]any{"operation": operation(f.event)}
		if f.logger != "" {
			api["service"] = map[string]any{"name": f.logger}
		}
		e["api"] = api
		if r.TraceID != "" {
			e["trace"] = map[string]any{"uid": r.TraceID}
			profiles = append(profiles, "trace")
		}
	}
	if r.SpanID != "" {
		unmapped["span_id"] = r.SpanID
	}
	for _, kv := range f.kwargs {
		unmapped["kwarg_"+kv.Key] = kv.Value
	}
	meta["profiles"] = profiles
	if len(unmapped) > 0 {
		e["unmapped"] = unmapped
	}
	return e, nil
}
