package collector_test

import (
	"context"
	"errors"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/internal/collectortest"
	"github.com/otelaudit/otelaudit/internal/demo"
	"github.com/otelaudit/otelaudit/internal/demo/demotest"
	"github.com/otelaudit/otelaudit/internal/vlogstest"
	"github.com/otelaudit/otelaudit/psono"
)

// failedLoginsQuery is the LogsQL query of ocsf-to-victorialogs.yaml (and
// README) that finds failed logins in the OCSF events: Authentication
// (class_uid 3002) with status Failure (status_id 2).
const failedLoginsQuery = `class_uid:=3002 AND status_id:=2`

// runDemo is the demo server (examples/server's, the ServeMux one) as a
// demotest.RunFunc. demotest.Start always passes -settings, so the fallback
// settings are never read.
func runDemo(ctx context.Context, args []string, logw io.Writer, ready chan<- string) error {
	return demo.Serve(ctx, args, logw, ready, demo.Options{
		Routers:       map[string]demo.Wire{"servemux": demo.ServeMux},
		UnknownRouter: "servemux only",
		FallbackName:  "none",
		Fallback: func() (config.Settings, error) {
			return config.Settings{}, errors.New("the test passes -settings")
		},
	})
}

// demoSession runs the demo with the extra settings, forwarding to c over
// OTLP/HTTP: the seed session of Psono's documentation, two failed logins
// (a wrong password, an unknown user), a second user's login and a refused
// read, and requests whose paths hold quotes, separators, controls and
// non-ASCII. It stops the demo (which flushes the forwarder) and returns
// the lines of audit.log.
func demoSession(t *testing.T, c *collectortest.Collector, settings string) []string {
	t.Helper()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+c.HTTPEndpoint)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	t.Setenv("OTEL_SERVICE_NAME", "psono-siem")
	base, logPath, stop := demotest.Start(t, runDemo, "NUM_PROXIES: 1\n"+settings)
	cl := &demotest.Client{T: t, Base: base, XFF: "10.10.10.145"}
	demotest.SeedSession(cl)
	cl.Token = ""
	cl.Do("POST", "/authentication/login/", map[string]string{"username": "demo2@example.com", "password": "wrong"})
	eve := &demotest.Client{T: t, Base: base, XFF: "10.10.10.147"}
	eve.Do("POST", "/authentication/login/", map[string]string{"username": "eve@example.com", "password": "guess"})
	other := &demotest.Client{T: t, Base: base, XFF: "10.10.10.146"}
	_, out := other.Do("POST", "/authentication/login/", map[string]string{"username": "demo1@example.com", "password": "demo1"})
	other.Token, _ = out["token"].(string)
	other.Do("POST", "/authentication/activate-token/", nil)
	other.Do("GET", "/datastore/bed4572d-6a28-4c00-94c2-dd45322de1d0/", nil) // someone else's: 403
	for _, p := range []string{`/x/%22quoted%22,%20a=b%5C`, `/x/line%0Abreak%0D%09tab`, `/x/sep%E2%80%A8%C2%85`, `/x/%C3%A9t%C3%A9`} {
		cl.Do("GET", p, nil)
	}
	if err := stop(); err != nil {
		t.Fatalf("demo shutdown: %v", err)
	}
	return demotest.Lines(t, logPath)
}

// lineField returns a field of an audit.log line.
func lineField(t *testing.T, line, key string) string {
	t.Helper()
	l, err := psono.Parse(line)
	if err != nil {
		t.Fatalf("audit.log line %q: %v", line, err)
	}
	v, _ := l.Get(key)
	return v
}

// checkMessages checks that VictoriaLogs holds exactly one record per line
// of audit.log, each with the line as its message (_msg).
func checkMessages(t *testing.T, rows []map[string]string, lines []string) {
	t.Helper()
	var msgs []string
	for _, row := range rows {
		msgs = append(msgs, row["_msg"])
	}
	want := append([]string(nil), lines...)
	sort.Strings(msgs)
	sort.Strings(want)
	if strings.Join(msgs, "\n") != strings.Join(want, "\n") {
		t.Errorf("the messages (_msg) of the %d records are not the %d lines of audit.log:\n got %q\nwant %q",
			len(msgs), len(want), msgs, want)
	}
}

// TestOCSFToVictoriaLogs runs the demo with LOGGING_AUDIT_FORWARD_SCHEMA:
// ocsf through ocsf-to-victorialogs.yaml into a real VictoriaLogs: every
// line arrives with its OCSF fields flattened (class_uid, status_id,
// metadata.event_code, ...) and the line itself as the message, and the
// README's query for failed logins answers exactly the failed logins of
// audit.log.
func TestOCSFToVictoriaLogs(t *testing.T) {
	skipShort(t)
	vl := vlogstest.Start(t)
	c := collectortest.Start(t, readConfig(t, "ocsf-to-victorialogs.yaml"),
		collectortest.WithEnv("BACKEND_OTLP_ENDPOINT", vl.OTLPEndpoint))
	lines := demoSession(t, c, "LOGGING_AUDIT_FORWARD_SCHEMA: ocsf\n")

	all := vl.WaitQuery(t, "*", len(lines), time.Minute)
	checkMessages(t, all, lines)
	for _, row := range all {
		if row["metadata.version"] != "1.8.0" || row["class_uid"] == "" || row["metadata.log_name"] != "audit.log" {
			t.Errorf("a record without its OCSF fields: %v", row)
		}
	}

	// The resource's service.name is still the stream's: a stream filter
	// finds every record, whatever the OCSF body holds.
	if rows := vl.Query(t, `_stream:{service.name="psono-siem"}`); len(rows) != len(lines) {
		t.Errorf("_stream:{service.name=\"psono-siem\"}: %d rows, want %d", len(rows), len(lines))
	}

	// The README's count per user and address.
	failures := map[string]int{}
	for _, line := range lines {
		ev := lineField(t, line, "event")
		if (strings.HasPrefix(ev, "LOGIN_") || strings.HasPrefix(ev, "LOGOUT_")) && lineField(t, line, "success") == "False" {
			user := lineField(t, line, "user")
			if user == "" {
				user = "anonymous"
			}
			failures[user+" "+lineField(t, line, "user_ip")]++
		}
	}
	stats := vl.Query(t, failedLoginsQuery+` | stats by (user.name, src_endpoint.ip) count() failures`)
	got := map[string]int{}
	for _, row := range stats {
		n, err := strconv.Atoi(row["failures"])
		if err != nil {
			t.Fatalf("stats row %v: %v", row, err)
		}
		got[row["user.name"]+" "+row["src_endpoint.ip"]] = n
	}
	if !reflect.DeepEqual(got, failures) {
		t.Errorf("failed logins per user and address: %v, want %v", got, failures)
	}

	for _, q := range []struct {
		logsql   string
		activity string // "" for any
	}{
		{failedLoginsQuery, ""},
		{failedLoginsQuery + ` AND activity_id:=1`, "1"},
	} {
		t.Run(q.logsql, func(t *testing.T) {
			want := map[string]string{} // line -> event
			for _, line := range lines {
				ev := lineField(t, line, "event")
				auth := strings.HasPrefix(ev, "LOGIN_") || strings.HasPrefix(ev, "LOGOUT_")
				logon := strings.HasPrefix(ev, "LOGIN_")
				if auth && lineField(t, line, "success") == "False" && (q.activity == "" || logon) {
					want[line] = ev
				}
			}
			if len(want) < 2 {
				t.Fatalf("the session has %d failed logins, want at least 2: the test is wrong\n%s", len(want), strings.Join(lines, "\n"))
			}
			rows := vl.Query(t, q.logsql)
			if len(rows) != len(want) {
				t.Fatalf("%d rows, want %d:\nrows %v\nwant %v", len(rows), len(want), rows, want)
			}
			for _, row := range rows {
				line := row["_msg"]
				ev, ok := want[line]
				if !ok {
					t.Errorf("a row that is no failed login of audit.log: %v", row)
					continue
				}
				delete(want, line)
				activity := "1"
				if strings.HasPrefix(ev, "LOGOUT_") {
					activity = "2"
				}
				fields := map[string]string{
					"class_uid":           "3002",
					"class_name":          "Authentication",
					"category_uid":        "3",
					"activity_id":         activity,
					"type_uid":            "30020" + activity,
					"status_id":           "2",
					"status":              "Failure",
					"metadata.event_code": ev,
					"metadata.version":    "1.8.0",
					"src_endpoint.ip":     lineField(t, line, "user_ip"),
					// Authentication's service object is {name: the logger}:
					// flattened, it shadows the resource's service.name in the
					// row (the stream keeps the resource's, see below).
					"service.name": lineField(t, line, "logger"),
				}
				if u := lineField(t, line, "user"); u != "" {
					fields["user.name"] = u
				}
				for k, v := range fields {
					if row[k] != v {
						t.Errorf("%s: %s = %q, want %q (row %v)", ev, k, row[k], v, row)
					}
				}
			}
		})
	}
}

// TestPsonoLineIsMessage runs the demo with the default schema (psono)
// through otlp-to-backend.yaml into a real VictoriaLogs: every record's
// message (_msg) is its audit.log line, never "missing _msg field".
func TestPsonoLineIsMessage(t *testing.T) {
	skipShort(t)
	vl := vlogstest.Start(t)
	c := collectortest.Start(t, readConfig(t, "otlp-to-backend.yaml"),
		collectortest.WithEnv("BACKEND_OTLP_ENDPOINT", vl.OTLPEndpoint))
	lines := demoSession(t, c, "")
	rows := vl.WaitQuery(t, "*", len(lines), time.Minute)
	checkMessages(t, rows, lines)
	if missing := vl.Query(t, `_msg:"missing _msg field"`); len(missing) != 0 {
		t.Errorf("%d records without a message: %v", len(missing), missing)
	}
	// The message is searchable as text, as a person would search it.
	for _, line := range lines {
		if lineField(t, line, "event") == "LOGIN_STARTED_ERROR" {
			rows := vl.Query(t, `_msg:=`+quoteLogsQL(line))
			if len(rows) != 1 {
				t.Errorf("_msg:= the line %q: %d rows, want 1", line, len(rows))
			}
		}
	}
}

// quoteLogsQL quotes s as a LogsQL string (a Go-style double-quoted
// string).
func quoteLogsQL(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
