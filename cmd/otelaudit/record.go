package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/otelaudit/otelaudit/psono"
)

// errNotRecord is wrapped by parseRecord's errors for lines that have the
// syntax of a line but not the fields of an audit record.
var errNotRecord = errors.New("not a Psono audit record")

// parseRecord parses one line of an audit log as a Psono audit record (see
// /work/shared/psono-audit-format.md): the time as Python's isoformat
// writes it (2006-01-02T15:04:05.000000, or without the fraction), then
// logger, user_ip, req_method, req_url, success, hostname, status and event
// in this order, then user and user_id when present, then kwarg_<name>
// pairs. success is True, False or None, status a status name (HTTP_403,
// HTTP_403_FORBIDDEN) or None, event not empty (None when the record had
// none). A line of any other shape, "WORD key=value" for one, is not a
// record. It returns the line and its time, read as UTC (only the order of
// times matters to the caller).
func parseRecord(raw []byte) (psono.Line, time.Time, error) {
	l, err := psono.Parse(string(raw))
	if err != nil {
		return l, time.Time{}, err
	}
	t, err := psono.ParseTime(l.Time, time.UTC)
	if err != nil {
		return l, t, fmt.Errorf("%w: the line does not start with a time such as 2026-11-29T16:00:00.000000: %.40q", errNotRecord, l.Time)
	}
	const fixed = 8 // logger to event
	if len(l.Pairs) < fixed {
		return l, t, fmt.Errorf("%w: %d fields, want at least %d (logger to event)", errNotRecord, len(l.Pairs), fixed)
	}
	for i, p := range l.Pairs[:fixed] {
		if want := psono.Fields[i].Name; p.Key != want {
			return l, t, fmt.Errorf("%w: field %d is %.40q, want %s", errNotRecord, i+1, p.Key, want)
		}
	}
	rest := l.Pairs[fixed:]
	for _, f := range []psono.Field{psono.User, psono.UserID} {
		if len(rest) > 0 && rest[0].Key == f.Name {
			rest = rest[1:]
		}
	}
	for _, p := range rest {
		name, ok := strings.CutPrefix(p.Key, psono.KwargPrefix)
		if !ok || !kwargName(name) {
			return l, t, fmt.Errorf("%w: unexpected field %.40q after event (only user, user_id and kwarg_<name> follow it)", errNotRecord, p.Key)
		}
	}
	if v := l.Pairs[4].Value; v != "True" && v != "False" && v != "None" {
		return l, t, fmt.Errorf("%w: success is %.40q, not True, False or None", errNotRecord, v)
	}
	if v := l.Pairs[6].Value; v != "None" {
		if _, ok := psono.ParseStatusName(v); !ok {
			return l, t, fmt.Errorf("%w: status %.40q is not a status name such as HTTP_200_OK", errNotRecord, v)
		}
	}
	if l.Pairs[7].Value == "" {
		return l, t, fmt.Errorf("%w: the event is empty", errNotRecord)
	}
	return l, t, nil
}

// kwargName reports whether name is the name of a kwarg: letters, digits
// and underscores, as Python's keyword arguments (and psono.KwargName).
func kwargName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// skipped counts the lines that are not audit records, and remembers the
// first, for one report at the end instead of a message per line.
type skipped struct {
	n     int64
	first string // FILE:LINE: why
}

func (s *skipped) add(path string, line int64, err error) {
	if s.n == 0 {
		s.first = fmt.Sprintf("%s:%d: %v", path, line, err)
	}
	s.n++
}

// report writes the count and the first line to w, if there were any.
func (s *skipped) report(w io.Writer, cmd string) {
	switch s.n {
	case 0:
	case 1:
		fmt.Fprintf(w, "otelaudit %s: skipped 1 line that is not a Psono audit record: %s\n", cmd, escaped(s.first))
	default:
		fmt.Fprintf(w, "otelaudit %s: skipped %d lines that are not Psono audit records; the first: %s\n", cmd, s.n, escaped(s.first))
	}
}
