package psono

import (
	"fmt"
	"strings"
)

// EventCode returns code in the form every event code is recorded and
// matched in: upper case, as strings.ToUpper maps it. Psono's codes are
// upper case (LIST_DATASTORE_SUCCESS); a handler's "login_started_success"
// is recorded as LOGIN_STARTED_SUCCESS, and the whitelist and blacklist
// match events in this form too.
func EventCode(code string) string { return strings.ToUpper(code) }

// ValidatePattern reports whether p is a valid whitelist or blacklist entry:
// an event code such as "READ_INFO_SUCCESS", or a prefix ending in a single
// "*" such as "LOGIN_*" ("*" alone matches every event). Events are matched
// in the form of EventCode, so an entry that EventCode would change
// ("login_*") could never match and is refused.
func ValidatePattern(p string) error {
	if p == "" {
		return fmt.Errorf("empty event pattern")
	}
	if i := strings.IndexByte(p, '*'); i >= 0 && i != len(p)-1 {
		return fmt.Errorf("event pattern %q: '*' is allowed only at the end, as a prefix match", p)
	}
	if strings.ContainsFunc(p, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fmt.Errorf("event pattern %q holds whitespace or a control character", p)
	}
	if up := EventCode(p); up != p {
		return fmt.Errorf("%q can never match, event codes are upper case; write %q", p, up)
	}
	return nil
}

// Patterns is a compiled list of event patterns (see ValidatePattern). Its
// zero value is empty and matches nothing.
type Patterns struct {
	exact    map[string]struct{}
	prefixes []string
	all      bool
}

// NewPatterns compiles list, or returns the error of its first invalid
// entry.
func NewPatterns(list []string) (Patterns, error) {
	m := Patterns{exact: make(map[string]struct{}, len(list))}
	for _, p := range list {
		if err := ValidatePattern(p); err != nil {
			return Patterns{}, err
		}
		switch {
		case p == "*":
			m.all = true
		case strings.HasSuffix(p, "*"):
			m.prefixes = append(m.prefixes, strings.TrimSuffix(p, "*"))
		default:
			m.exact[p] = struct{}{}
		}
	}
	return m, nil
}

// Empty reports whether the list has no entry.
func (m Patterns) Empty() bool { return !m.all && len(m.exact) == 0 && len(m.prefixes) == 0 }

// Match reports whether event matches an entry; the event is taken in the
// form of EventCode.
func (m Patterns) Match(event string) bool {
	if m.all {
		return true
	}
	event = EventCode(event)
	if _, ok := m.exact[event]; ok {
		return true
	}
	for _, p := range m.prefixes {
		if strings.HasPrefix(event, p) {
			return true
		}
	}
	return false
}
