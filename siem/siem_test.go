package siem_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/internal/demo"
	"github.com/otelaudit/otelaudit/internal/demo/demotest"
	"github.com/otelaudit/otelaudit/internal/seed"
	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/siem"
)

// runDemo serves the demo API behind net/http's ServeMux (examples/server).
func runDemo(ctx context.Context, args []string, logw io.Writer, ready chan<- string) error {
	return demo.Serve(ctx, args, logw, ready, demo.Options{
		Routers:  map[string]demo.Wire{"servemux": demo.ServeMux},
		Fallback: func() (config.Settings, error) { return config.Settings{}, fmt.Errorf("the test gives -settings") },
	})
}

// demoSession runs the demo's session and returns the lines of its
// audit.log: the session of Psono's documentation (logins, kwargs), the
// refusals (400, 401, 403, 404, 405) and requests carrying hostile values
// (quotes, CR/LF, backslashes, Unicode) in their kwargs and paths.
func demoSession(t *testing.T) []string {
	t.Helper()
	base, logPath, stop := demotest.Start(t, runDemo, "NUM_PROXIES: 1\n")
	c := &demotest.Client{T: t, Base: base, XFF: "10.10.10.145"}
	demotest.SeedSession(c)
	token := c.Token
	refusals := []struct {
		method, path, token string
		body                any
		status              int
	}{
		{"POST", "/authentication/login/", "", map[string]string{"username": "demo2@example.com", "password": "nope"}, 400},
		{"GET", "/user/status/", "", nil, 401},
		{"GET", "/datastore/", "bogus", nil, 401},
		{"GET", "/no/such/route", "", nil, 404},
		{"DELETE", "/info/", "", nil, 405},
		{"OPTIONS", "/info/", "", nil, 405},
		{"PUT", "/datastore/", token, nil, 405},
		// hostile values: the share id kwarg and the path
		{"GET", "/share/" + `%22quoted%22%20%5C%20a,%20b=c` + "/", token, nil, 0},
		{"GET", "/share/" + `line%0D%0Abreak%0D%0A2020-05-24T07:55:37.720973%20logger=forged` + "/", token, nil, 0},
		{"GET", "/share/" + `%E2%80%A8sep%C2%85%09tab%E6%97%A5%E6%9C%AC%F0%9F%94%91` + "/", token, nil, 0},
		{"GET", "/datastore/" + `%00nul%7Fdel` + "/", token, nil, 0},
	}
	for _, r := range refusals {
		c.Token = r.token
		code, _ := c.Do(r.method, r.path, r.body)
		if r.status != 0 && code != r.status {
			t.Errorf("%s %s = %d, want %d", r.method, r.path, code, r.status)
		}
	}
	// someone else's datastore: 403
	c.Token = ""
	_, out := c.Do("POST", "/authentication/login/", map[string]string{"username": "demo1@example.com", "password": "demo1"})
	c.Token, _ = out["token"].(string)
	c.Do("POST", "/authentication/activate-token/", nil)
	if code, _ := c.Do("GET", "/datastore/bed4572d-6a28-4c00-94c2-dd45322de1d0/", nil); code != http.StatusForbidden {
		t.Errorf("someone else's datastore = %d, want 403", code)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	return demotest.Lines(t, logPath)
}

// hostileLines are lines no demo request makes: logouts, None fields,
// methods outside OCSF's list, a user_ip that is not an address, an IPv6
// address with a zone, a status DRF does not name, a time without a
// fraction, and values with quotes, backslashes, CR/LF, U+2028 and other
// Unicode, and invalid UTF-8, in every field.
func hostileLines() []string {
	mk := func(time string, kv ...string) string {
		l := psono.Line{Time: time}
		for i := 0; i < len(kv); i += 2 {
			l.Pairs = append(l.Pairs, psono.Pair{Key: kv[i], Value: kv[i+1]})
		}
		return l.String()
	}
	fixed := func(method, url, success, status, event string, rest ...string) []string {
		return append([]string{"logger", "restapi.views.x", "user_ip", "10.0.0.1", "req_method", method, "req_url", url,
			"success", success, "hostname", "host-1", "status", status, "event", event}, rest...)
	}
	hostile := "say \"hi\", \\ back\r\nslash\u2028\u0085 日本 🔑 \x00\x7f"
	return []string{
		mk("2026-11-29T16:00:00.000001", fixed("POST", "/authentication/logout/", "True", "HTTP_200_OK", "LOGOUT_SUCCESS", "user", "demo2@example.com", "user_id", "ba504938-9a23-4162-867f-6840c301bc20")...),
		mk("2026-11-29T16:00:00", fixed("POST", "/authentication/logout/", "False", "HTTP_401_UNAUTHORIZED", "LOGOUT_ERROR")...),
		mk("2026-11-29T16:00:01.500000", fixed("PROPFIND", "/x/", "False", "HTTP_405_METHOD_NOT_ALLOWED", "REQUEST_ERROR")...),
		mk("2026-11-29T16:00:02.000002", fixed("get", "/x/", "False", "HTTP_405_METHOD_NOT_ALLOWED", "REQUEST_ERROR")...),
		mk("2026-11-29T16:00:03.000003", fixed("PATCH", "/x/", "True", "HTTP_299", "UPDATE_X_SUCCESS", "kwarg_x_id", "None")...),
		mk("2026-11-29T16:00:04.000004", fixed("HEAD", "/x/", "None", "None", "CHECK_HEALTH_FAILURE")...),
		mk("2026-11-29T16:00:05.000005", "logger", "None", "user_ip", "None", "req_method", "None", "req_url", "None",
			"success", "None", "hostname", "None", "status", "None", "event", "INVALID_REQUEST"),
		mk("2026-11-29T16:00:06.000006", "logger", "None", "user_ip", "None", "req_method", "None", "req_url", "None",
			"success", "None", "hostname", "None", "status", "None", "event", "LOGIN_STARTED_ERROR"),
		mk("2026-11-29T16:00:07.000007", "logger", hostile, "user_ip", "fe80::1%eth0", "req_method", "DELETE",
			"req_url", "/"+hostile, "success", "False", "hostname", hostile, "status", "HTTP_403_FORBIDDEN",
			"event", "DELETE_"+hostile+"_ERROR", "user", hostile, "user_id", hostile, "kwarg_"+"a", hostile, "kwarg_b", ""),
		mk("2026-11-29T16:00:08.000008", fixed("POST", "/x/", "False", "HTTP_403_FORBIDDEN", "LOGIN_"+hostile,
			"user", hostile)...),
		mk("2026-11-29T16:00:09.000009", "logger", "x", "user_ip", "not an ip, \"really\"", "req_method", "GET", "req_url", "/",
			"success", "True", "hostname", "h", "status", "HTTP_200_OK", "event", "READ_SUCCESS"),
		mk("2026-11-29T16:00:10.000010", fixed("GET", "/\xff\xfe/", "True", "HTTP_200_OK", "READ_SUCCESS", "kwarg_bin", "\xff")...),
		mk("2026-11-29T16:00:11.000011", fixed("GET", "/", "True", "HTTP_200_OK", "READ_SUCCESS", "user_id", "only-an-id")...),
	}
}

// corpus returns every line the schema tests run on, each with a name.
func corpus(t *testing.T) map[string]string {
	lines := map[string]string{}
	for i, l := range seed.Lines {
		lines["seed/"+strconv.Itoa(i+1)] = l
	}
	if !testing.Short() {
		for i, l := range demoSession(t) {
			lines["demo/"+strconv.Itoa(i+1)] = l
		}
	}
	for i, l := range hostileLines() {
		lines["hostile/"+strconv.Itoa(i+1)] = l
	}
	return lines
}

// records returns the records of a line the tests map: as exported (no
// position, no trace), and as forwarded from a sealed log with trace
// context, in UTC and in a zone east of it.
func records(t *testing.T, raw string) []siem.Record {
	t.Helper()
	l, err := psono.Parse(raw)
	if err != nil {
		t.Fatalf("psono.Parse(%q): %v", raw, err)
	}
	east := time.FixedZone("UTC+5:30", 5*3600+1800)
	return []siem.Record{
		{Line: l, Raw: raw},
		{Line: l, Raw: raw, Location: east, Position: &siem.Position{Log: "psono-1/var/log/psono/audit.log", Tree: 3, Index: 41},
			TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "00f067aa0ba902b7"},
		{Line: l, Position: &siem.Position{Index: 7}},
	}
}

// TestOCSFValid maps every line of the corpus and checks each event
// against the OCSF 1.8.0 source, and that it carries every field of the
// line to its place.
func TestOCSFValid(t *testing.T) {
	loadOCSF(t)
	for name, raw := range corpus(t) {
		for i, r := range records(t, raw) {
			e, err := siem.OCSF(r)
			if err != nil {
				t.Errorf("%s: OCSF: %v", name, err)
				continue
			}
			for _, p := range validateOCSF(t, e) {
				t.Errorf("%s (record %d): %s\n\tline: %s", name, i, p, raw)
			}
			checkOCSFPlaces(t, name, r, e)
		}
	}
}

// TestECSValid is TestOCSFValid for ECS 9.4.0.
func TestECSValid(t *testing.T) {
	loadECS(t)
	for name, raw := range corpus(t) {
		for i, r := range records(t, raw) {
			d, err := siem.ECS(r)
			if err != nil {
				t.Errorf("%s: ECS: %v", name, err)
				continue
			}
			for _, p := range validateECS(t, d) {
				t.Errorf("%s (record %d): %s\n\tline: %s", name, i, p, raw)
			}
			checkECSPlaces(t, name, r, d)
		}
	}
}

// get returns the value at a dotted path of nested maps.
func get(m map[string]any, path string) (any, bool) {
	var v any = m
	for _, k := range strings.Split(path, ".") {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = mm[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// want is one expectation: the value at path (absent when present is
// false).
type want struct {
	path    string
	value   any
	present bool
}

func check(t *testing.T, name, schema string, doc map[string]any, wants []want) {
	t.Helper()
	j := toJSON(t, doc)
	for _, w := range wants {
		got, ok := get(j, w.path)
		switch {
		case ok != w.present:
			t.Errorf("%s: %s %s present = %v, want %v (value %v)", name, schema, w.path, ok, w.present, got)
		case ok && fmt.Sprint(got) != fmt.Sprint(w.value):
			t.Errorf("%s: %s %s = %q, want %q", name, schema, w.path, fmt.Sprint(got), fmt.Sprint(w.value))
		}
	}
}

// value returns the line's value of key with "None" as absent; the
// replacement of invalid UTF-8 JSON makes.
func value(l psono.Line, key string) (string, bool) {
	v, ok := l.Get(key)
	if !ok || v == "None" {
		return "", false
	}
	return jsonString(v), true
}

// jsonString returns s as JSON carries it: each byte of invalid UTF-8
// replaced by U+FFFD.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	var out string
	_ = json.Unmarshal(b, &out)
	return out
}

func lineTime(t *testing.T, r siem.Record) time.Time {
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	tm, err := psono.ParseTime(r.Line.Time, loc)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func checkOCSFPlaces(t *testing.T, name string, r siem.Record, e map[string]any) {
	t.Helper()
	l := r.Line
	raw := r.Raw
	if raw == "" {
		raw = l.String()
	}
	tm := lineTime(t, r)
	event, _ := value(l, "event")
	auth := strings.HasPrefix(event, "LOGIN_") || strings.HasPrefix(event, "LOGOUT_")
	ws := []want{
		{"raw_data", raw, true},
		{"time", tm.UnixMilli(), true},
		{"time_dt", tm.Format("2006-01-02T15:04:05.999999Z07:00"), true},
		{"metadata.event_code", event, true},
		{"metadata.log_name", "audit.log", true},
	}
	opt := func(path, key string) {
		v, ok := value(l, key)
		ws = append(ws, want{path, v, ok})
	}
	userPath := "actor.user."
	if auth {
		userPath = "user."
		opt("service.name", "logger")
		_, logger := value(l, "logger")
		_, host := value(l, "hostname")
		if !logger && !host {
			// at_least_one of service and dst_endpoint
			ws[len(ws)-1] = want{"service.name", "None", true}
		}
		ws = append(ws, want{"class_uid", 3002, true})
	} else {
		opt("api.service.name", "logger")
		ws = append(ws, want{"class_uid", 6003, true})
		op := event
		for _, s := range []string{"_SUCCESS", "_ERROR", "_FAILURE"} {
			if o, ok := strings.CutSuffix(event, s); ok && o != "" {
				op = o
				break
			}
		}
		ws = append(ws, want{"api.operation", op, true})
	}
	if u, ok := value(l, "user"); ok {
		ws = append(ws, want{userPath + "name", u, true})
	} else if _, ok := value(l, "user_id"); !ok {
		ws = append(ws, want{userPath + "name", "anonymous", true})
	} else {
		ws = append(ws, want{userPath + "name", "", false})
	}
	opt(userPath+"uid", "user_id")
	if ip, ok := value(l, "user_ip"); ok {
		if strings.Contains(ip, "%") {
			ip = ip[:strings.IndexByte(ip, '%')]
		}
		if _, err := parseIP(ip); err == nil {
			ws = append(ws, want{"src_endpoint.ip", ip, true})
		} else {
			ws = append(ws, want{"unmapped.user_ip", ip, true}, want{"src_endpoint.name", ip, true})
		}
	}
	opt("dst_endpoint.hostname", "hostname")
	opt("http_request.url.path", "req_url")
	if m, ok := value(l, "req_method"); ok {
		if slices.Contains([]string{"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"}, m) {
			ws = append(ws, want{"http_request.http_method", m, true})
		} else {
			ws = append(ws, want{"unmapped.req_method", m, true})
		}
	}
	opt("status_code", "status")
	if st, ok := value(l, "status"); ok {
		code, _ := psono.ParseStatusName(st)
		ws = append(ws, want{"http_response.code", code, true})
	}
	switch s, _ := value(l, "success"); s {
	case "True":
		ws = append(ws, want{"status_id", 1, true})
	case "False":
		ws = append(ws, want{"status_id", 2, true})
	default:
		ws = append(ws, want{"status_id", 0, true})
	}
	for _, p := range l.Pairs {
		if strings.HasPrefix(p.Key, "kwarg_") {
			ws = append(ws, want{"unmapped." + p.Key, jsonString(p.Value), true})
		}
	}
	if p := r.Position; p != nil {
		ws = append(ws, want{"metadata.sequence", p.Index, true}, want{"metadata.uid", p.UID(), p.UID() != ""})
	} else {
		ws = append(ws, want{"metadata.sequence", nil, false}, want{"metadata.uid", nil, false})
	}
	if r.TraceID != "" {
		if auth {
			ws = append(ws, want{"unmapped.trace_id", r.TraceID, true})
		} else {
			ws = append(ws, want{"trace.uid", r.TraceID, true})
		}
		ws = append(ws, want{"unmapped.span_id", r.SpanID, true})
	}
	check(t, name, "OCSF", e, ws)
}

func checkECSPlaces(t *testing.T, name string, r siem.Record, d map[string]any) {
	t.Helper()
	l := r.Line
	raw := r.Raw
	if raw == "" {
		raw = l.String()
	}
	tm := lineTime(t, r)
	event, _ := value(l, "event")
	ws := []want{
		{"event.original", raw, true},
		{"message", raw, true},
		{"@timestamp", tm.Format("2006-01-02T15:04:05.999999Z07:00"), true},
		{"event.action", event, true},
		{"event.code", event, true},
		{"event.kind", "event", true},
		{"event.dataset", "psono.audit", true},
	}
	opt := func(path, key string) {
		v, ok := value(l, key)
		ws = append(ws, want{path, v, ok})
	}
	opt("user.name", "user")
	opt("user.id", "user_id")
	opt("http.request.method", "req_method")
	opt("url.path", "req_url")
	opt("host.hostname", "hostname")
	opt("log.logger", "logger")
	if ip, ok := value(l, "user_ip"); ok {
		if strings.Contains(ip, "%") {
			ip = ip[:strings.IndexByte(ip, '%')]
		}
		if _, err := parseIP(ip); err == nil {
			ws = append(ws, want{"source.ip", ip, true}, want{"client.ip", ip, true})
		} else {
			ws = append(ws, want{"source.address", ip, true}, want{"client.address", ip, true})
		}
	}
	if st, ok := value(l, "status"); ok {
		code, _ := psono.ParseStatusName(st)
		ws = append(ws, want{"http.response.status_code", code, true})
	}
	switch s, _ := value(l, "success"); s {
	case "True":
		ws = append(ws, want{"event.outcome", "success", true})
	case "False":
		ws = append(ws, want{"event.outcome", "failure", true})
	default:
		ws = append(ws, want{"event.outcome", "unknown", true})
	}
	for _, p := range l.Pairs {
		if name, ok := strings.CutPrefix(p.Key, "kwarg_"); ok {
			ws = append(ws, want{"psono.kwarg." + name, jsonString(p.Value), true})
		}
	}
	if p := r.Position; p != nil {
		ws = append(ws, want{"event.sequence", p.Index, true}, want{"event.id", p.UID(), p.UID() != ""})
	}
	ws = append(ws, want{"trace.id", r.TraceID, r.TraceID != ""}, want{"span.id", r.SpanID, r.SpanID != ""})
	check(t, name, "ECS", d, ws)
}

// TestSessionCoverage checks that the demo session covers what the schema
// tests promise: successes, every refusal, logins, kwargs, hostile values.
func TestSessionCoverage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo server")
	}
	seen := map[string]bool{}
	for _, raw := range demoSession(t) {
		l, err := psono.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := l.Get("status")
		ev, _ := l.Get("event")
		seen[st] = true
		if strings.HasPrefix(ev, "LOGIN_") {
			seen["login"] = true
		}
		for _, p := range l.Pairs {
			if strings.HasPrefix(p.Key, "kwarg_") {
				seen["kwarg"] = true
				if strings.ContainsAny(p.Value, "\"\r\n\u2028") {
					seen["hostile"] = true
				}
			}
		}
	}
	for _, k := range []string{"HTTP_200_OK", "HTTP_400_BAD_REQUEST", "HTTP_401_UNAUTHORIZED", "HTTP_403_FORBIDDEN",
		"HTTP_404_NOT_FOUND", "HTTP_405_METHOD_NOT_ALLOWED", "login", "kwarg", "hostile"} {
		if !seen[k] {
			t.Errorf("the demo session has no %s line; seen %v", k, slices.Sorted(maps.Keys(seen)))
		}
	}
}
