package main

import (
	"flag"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/otelaudit/otelaudit/psono"
)

// A filter selects audit records by their fields; search and tail share it.
// An empty filter selects every record.
type filter struct {
	events              []string // exact codes, or prefixes ending in "*"
	eventPatterns       psono.Patterns
	user, ip, status    string
	success             string
	since, until        string
	local               bool
	ipAddr              netip.Addr
	ipNet               netip.Prefix
	statusCode, statusX int // statusX: the class of "4xx", else 0
	successV            bool
	sinceT, untilT      time.Time
	loc                 *time.Location
}

// eventList is a repeatable -event flag.
type eventList []string

func (e *eventList) String() string     { return strings.Join(*e, ",") }
func (e *eventList) Set(s string) error { *e = append(*e, s); return nil }

// register defines the filter's flags on fs.
func (f *filter) register(fs *flag.FlagSet) {
	fs.Var((*eventList)(&f.events), "event", "only events `CODE` (LOGIN_SUCCESS), or starting with a prefix (LOGIN_*); repeat for any of several")
	fs.StringVar(&f.user, "user", "", "only records of the user with this `NAME or ID` (user or user_id)")
	fs.StringVar(&f.ip, "ip", "", "only records from this client `ADDRESS` (user_ip), or from a network such as 10.0.0.0/8")
	fs.StringVar(&f.status, "status", "", "only this `STATUS`: a code (403), a name (HTTP_403_FORBIDDEN) or a class (4xx)")
	fs.StringVar(&f.success, "success", "", "only successful (`BOOL` true) or failed (false) requests")
	fs.StringVar(&f.since, "since", "", "only records at or after `TIME`: RFC 3339 (2026-11-29T16:00:00Z), the line's own format (2026-11-29T16:00:00.000000) or a date (2026-11-29)")
	fs.StringVar(&f.until, "until", "", "only records before `TIME` (formats as -since)")
	fs.BoolVar(&f.local, "local", false, "the lines' times are in this machine's zone (LOGGING_AUDIT_TIME: time_server), not UTC")
}

// prepare checks and parses the flag values.
func (f *filter) prepare() error {
	f.loc = time.UTC
	if f.local {
		f.loc = time.Local
	}
	var err error
	if f.eventPatterns, err = psono.NewPatterns(f.events); err != nil {
		return fmt.Errorf("-event: %w", err)
	}
	if f.ip != "" {
		var err error
		if strings.Contains(f.ip, "/") {
			if f.ipNet, err = netip.ParsePrefix(f.ip); err != nil {
				return fmt.Errorf("-ip %q: not an address or network: %w", f.ip, err)
			}
		} else if f.ipAddr, err = netip.ParseAddr(f.ip); err != nil {
			return fmt.Errorf("-ip %q: not an IP address: %w", f.ip, err)
		}
	}
	if s := f.status; s != "" {
		if code, err := strconv.Atoi(s); err == nil {
			f.statusCode = code
		} else if code, ok := psono.ParseStatusName(s); ok {
			f.statusCode = code
		} else if len(s) == 3 && s[0] >= '1' && s[0] <= '5' && strings.EqualFold(s[1:], "xx") {
			f.statusX = int(s[0] - '0')
		} else {
			return fmt.Errorf("-status %q: want a code (403), a name (HTTP_403_FORBIDDEN) or a class (4xx)", s)
		}
	}
	if f.success != "" {
		v, err := strconv.ParseBool(f.success)
		if err != nil {
			return fmt.Errorf("-success %q: want true or false", f.success)
		}
		f.successV = v
	}
	if f.sinceT, err = f.parseTime("-since", f.since); err != nil {
		return err
	}
	if f.untilT, err = f.parseTime("-until", f.until); err != nil {
		return err
	}
	return nil
}

func (f *filter) parseTime(flagName, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, f.loc); err == nil {
		return t, nil
	}
	t, err := psono.ParseTime(s, f.loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q: want RFC 3339 (2026-11-29T16:00:00Z), the log's format (2026-11-29T16:00:00.000000) or a date (2026-11-29)", flagName, s)
	}
	return t, nil
}

// match reports whether the record l passes the filter.
func (f *filter) match(l psono.Line) bool {
	if len(f.events) > 0 {
		if ev, _ := l.Get(psono.Event.Name); !f.eventPatterns.Match(ev) {
			return false
		}
	}
	if f.user != "" {
		u, _ := l.Get(psono.User.Name)
		id, _ := l.Get(psono.UserID.Name)
		if u != f.user && id != f.user {
			return false
		}
	}
	if f.ip != "" {
		s, _ := l.Get(psono.UserIP.Name)
		a, err := netip.ParseAddr(s)
		if err != nil {
			return false
		}
		if f.ipNet.IsValid() && !f.ipNet.Contains(a.Unmap()) && !f.ipNet.Contains(a) || !f.ipNet.IsValid() && a.Unmap() != f.ipAddr.Unmap() {
			return false
		}
	}
	if f.status != "" {
		s, _ := l.Get(psono.Status.Name)
		code, ok := psono.ParseStatusName(s)
		if !ok || f.statusX != 0 && code/100 != f.statusX || f.statusX == 0 && code != f.statusCode {
			return false
		}
	}
	if f.success != "" {
		s, _ := l.Get(psono.Success.Name)
		if (s == "True") != f.successV {
			return false
		}
	}
	if f.since != "" || f.until != "" {
		t, err := psono.ParseTime(l.Time, f.loc)
		if err != nil || f.since != "" && t.Before(f.sinceT) || f.until != "" && !t.Before(f.untilT) {
			return false
		}
	}
	return true
}
