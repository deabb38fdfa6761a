package siem

import (
	"errors"
	"fmt"
	"net/netip"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/otelaudit/otelaudit/psono"
)

// A Record is one audit record as the mappings read it.
type Record struct {
	// Line is the decoded audit line (psono.Parse).
	Line psono.Line
	// Raw is the line exactly as audit.log holds it, without its newline.
	// When empty, Line's encoding (Line.String) is used.
	Raw string
	// Location is the zone the line's naive time was written in: UTC for
	// Psono's LOGGING_AUDIT_TIME time_utc (the default), time.Local for
	// time_server. nil means UTC.
	Location *time.Location
	// Position is the line's place in the sealed audit.log, nil when
	// unknown.
	Position *Position
	// TraceID and SpanID are the W3C trace context of the request, in
	// lower-case hex, or empty.
	TraceID, SpanID string
}

// A Position is where a record's line sits in the sealed audit.log (see
// package seal): the attributes audit.log.tree and audit.log.index of a
// forwarded record.
type Position struct {
	// Log is the seal log name (seal.DefaultLogName, such as
	// psono-1/var/log/psono/audit.log); optional.
	Log string
	// Tree is the number of the file in the seal chain, from 1; 0 when
	// unknown.
	Tree int64
	// Index is the index of the line in that file, from 0.
	Index int64
}

// UID returns a unique id for the position: LOG/TREE/INDEX, or TREE/INDEX
// without a log name, in the form of the seal's origin lines (LOG/TREE). It
// returns "" when the tree is unknown.
func (p *Position) UID() string {
	if p == nil || p.Tree <= 0 {
		return ""
	}
	s := strconv.FormatInt(p.Tree, 10) + "/" + strconv.FormatInt(p.Index, 10)
	if p.Log != "" {
		s = p.Log + "/" + s
	}
	return s
}

// ErrRecord is wrapped by the errors of the mappings for a line that is not
// an audit record.
var ErrRecord = errors.New("siem: not a Psono audit record")

// fields are the values of a record's line, "None" and absent fields as "".
type fields struct {
	t                               time.Time
	logger, ip, method, url, host   string
	success                         string // True, False or ""
	status                          int    // 0 when None
	statusName, event, user, userID string
	kwargs                          []psono.Pair // keys without kwarg_
	raw                             string
}

// read checks r and takes its fields out of the line.
func read(r *Record) (fields, error) {
	var f fields
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	t, err := psono.ParseTime(r.Line.Time, loc)
	if err != nil {
		return f, fmt.Errorf("%w: the line does not start with a time such as 2026-11-29T16:00:00.000000: %w", ErrRecord, err)
	}
	f.t = t
	for _, p := range r.Line.Pairs {
		v := p.Value
		if v == "None" && !strings.HasPrefix(p.Key, psono.KwargPrefix) {
			v = ""
		}
		switch p.Key {
		case psono.Logger.Name:
			f.logger = v
		case psono.UserIP.Name:
			f.ip = v
		case psono.ReqMethod.Name:
			f.method = v
		case psono.ReqURL.Name:
			f.url = v
		case psono.Success.Name:
			f.success = v
		case psono.Hostname.Name:
			f.host = v
		case psono.Status.Name:
			f.statusName = v
			if code, ok := psono.ParseStatusName(v); ok {
				f.status = code
			}
		case psono.Event.Name:
			f.event = v
		case psono.User.Name:
			f.user = v
		case psono.UserID.Name:
			f.userID = v
		default:
			if name, ok := strings.CutPrefix(p.Key, psono.KwargPrefix); ok {
				f.kwargs = append(f.kwargs, psono.Pair{Key: name, Value: p.Value})
			} else {
				return f, fmt.Errorf("%w: unexpected field %.40q (only logger to event, user, user_id and kwarg_<name>)", ErrRecord, p.Key)
			}
		}
	}
	if f.event == "" {
		return f, fmt.Errorf("%w: the line has no event", ErrRecord)
	}
	f.raw = r.Raw
	if f.raw == "" {
		f.raw = r.Line.String()
	}
	return f, nil
}

// login reports whether event is an authentication event, and whether it
// is a logoff.
func login(event string) (auth, logoff bool) {
	switch {
	case strings.HasPrefix(event, "LOGIN_"):
		return true, false
	case strings.HasPrefix(event, "LOGOUT_"):
		return true, true
	}
	return false, false
}

// operation returns event without its outcome suffix: LIST_DATASTORE for
// LIST_DATASTORE_SUCCESS, LIST_DATASTORE_ERROR and CHECK_HEALTH for
// CHECK_HEALTH_FAILURE.
func operation(event string) string {
	for _, s := range [...]string{"_SUCCESS", "_ERROR", "_FAILURE"} {
		if op, ok := strings.CutSuffix(event, s); ok && op != "" {
			return op
		}
	}
	return event
}

// ip returns s as an IP address (without an IPv6 zone, which neither
// schema's ip type holds) when it is one.
func ip(s string) (string, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return "", false
	}
	return a.WithZone("").String(), true
}

// Product is the product OCSF's metadata.product names: the software that
// reports the events.
var Product = struct{ Name, Vendor, Version string }{"otelaudit", "otelaudit", moduleVersion()}

const modulePath = "github.com/otelaudit/otelaudit"

// moduleVersion returns the version of the otelaudit module in the running
// binary (as otelaudit.Version does), "unknown" without build information.
func moduleVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	if bi.Main.Path == modulePath && bi.Main.Version != "" {
		return bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == modulePath {
			if d.Replace != nil && d.Replace.Version != "" {
				return d.Replace.Version
			}
			return d.Version
		}
	}
	return "(devel)"
}
