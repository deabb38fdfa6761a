package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/otelaudit/otelaudit/internal/collectortest"
	"github.com/otelaudit/otelaudit/internal/demo/demotest"
	"github.com/otelaudit/otelaudit/internal/metrictest"
	"github.com/otelaudit/otelaudit/internal/seed"
	"github.com/otelaudit/otelaudit/internal/vlogstest"
	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/spool"
)

// These tests run the demo server in-process with OTLP forwarding configured
// by the standard environment variables only, against the real example
// collector of examples/collector (built from its manifest and cached, see
// internal/collectortest) and a real VictoriaLogs.

func skipShortCollector(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the example collector; skipped with -short")
	}
}

// collectorConfig returns an example configuration of examples/collector.
func collectorConfig(t *testing.T, name string) string {
	t.Helper()
	dir, err := collectortest.ExampleDir()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// forwardTo points the demo's OTLP forwarding at the collector, the way a
// user would: environment variables only.
func forwardTo(t *testing.T, c *collectortest.Collector, protocol string) {
	t.Helper()
	endpoint := "http://" + c.HTTPEndpoint
	if protocol == "grpc" {
		endpoint = "http://" + c.GRPCEndpoint
	}
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
	t.Setenv("OTEL_SERVICE_NAME", "psono-e2e")
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=test")
}

// lineAttrs turns an audit.log line into the attributes its record must
// carry on the OTLP side, as text: each field under its psono.Fields
// attribute key, the event as event_name, kwargs under audit.kwarg.*, the
// status as its code and success as true/false (OTLP's int and bool). An
// OTLP string must be valid UTF-8, so bytes of invalid UTF-8 become U+FFFD.
func lineAttrs(t *testing.T, line string) (map[string]string, psono.Line) {
	t.Helper()
	l, err := psono.Parse(line)
	if err != nil {
		t.Fatalf("audit.log line %q: %v", line, err)
	}
	m := map[string]string{}
pairs:
	for _, p := range l.Pairs {
		v := strings.ToValidUTF8(p.Value, "\uFFFD")
		if name, ok := strings.CutPrefix(p.Key, psono.KwargPrefix); ok {
			m[string(psono.KwargAttr(name))] = v
			continue
		}
		for _, f := range psono.Fields {
			if f.Name != p.Key {
				continue
			}
			switch f {
			case psono.Event:
				m["event_name"] = v
			case psono.Success:
				m[string(f.Attr)] = strconv.FormatBool(v == "True")
			case psono.Status:
				code, ok := psono.ParseStatusName(v)
				if !ok {
					t.Fatalf("line %q: status %q", line, v)
				}
				m[string(f.Attr)] = strconv.Itoa(code)
			default:
				m[string(f.Attr)] = v
			}
			continue pairs
		}
		t.Fatalf("line %q: unknown key %q", line, p.Key)
	}
	return m, l
}

// recordAttrs is lineAttrs for a record the collector received: its
// attributes as text and its event name. Left out are http.route, which the
// line does not hold, and event.name, the collector configuration's copy of
// the event name for Loki (it must equal the event name).
func recordAttrs(r collectortest.LogRecord) map[string]string {
	m := map[string]string{"event_name": r.EventName}
	for k, v := range r.Attributes {
		switch k {
		case string(psono.Route), string(spool.RecordUID), string(spool.Origin), string(spool.SpoolSeq),
			string(psono.LogTree), string(psono.LogIndex):
			// The route, the line's position and what the spool adds for
			// delivery: not the line's fields.
		case "event.name":
			if v != r.EventName {
				m[k] = fmt.Sprint(v) // a difference the comparison reports
			}
		default:
			m[k] = fmt.Sprint(v)
		}
	}
	return m
}

func sameAttrs(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// hostilePaths are requests no route claims (one line each, event
// REQUEST_ERROR) whose decoded path holds what could break a line or an
// OTLP export: quotes, separators, controls, line separators and bytes of
// invalid UTF-8.
var hostilePaths = []string{
	`/x/%22quoted%22,%20a=b%5C`,
	`/x/line%0Abreak%0D%09tab`,
	`/x/sep%E2%80%A8%C2%85`,
	`/x/bad%FF%FEutf8`,
	`/x/%C3%A9t%C3%A9`,
}

// checkForwarded compares audit.log with what the collector received: every
// line exactly once, as a record with the same values, the trace context,
// the line's time and the resource the environment asked for.
func checkForwarded(t *testing.T, lines []string, recs []collectortest.LogRecord) {
	t.Helper()
	if len(recs) != len(lines) {
		t.Errorf("collector received %d records for %d lines of audit.log", len(recs), len(lines))
	}
	used := make([]bool, len(recs))
	traces := map[string]bool{}
	for _, line := range lines {
		want, l := lineAttrs(t, line)
		found := -1
		for j, r := range recs {
			if !used[j] && sameAttrs(recordAttrs(r), want) && string(psono.AppendTime(nil, r.Timestamp.UTC())) == l.Time {
				found = j
				break
			}
		}
		if found < 0 {
			t.Errorf("no record (or none left) for line\n  %s\nwant attributes %v", line, want)
			continue
		}
		used[found] = true
		r := recs[found]
		if len(r.TraceID) != 32 || len(r.SpanID) != 16 || strings.Trim(r.TraceID, "0") == "" {
			t.Errorf("line %q: record has trace id %q, span id %q", line, r.TraceID, r.SpanID)
		}
		if traces[r.TraceID] {
			t.Errorf("trace id %s on two records", r.TraceID)
		}
		traces[r.TraceID] = true
		if r.Resource["service.name"] != "psono-e2e" || r.Resource["deployment.environment.name"] != "test" ||
			r.Resource["host.name"] != want["host.name"] {
			t.Errorf("line %q: resource %v", line, r.Resource)
		}
		// One process, one random service.instance.id.
		if id, _ := r.Resource["service.instance.id"].(string); len(id) != 36 || id != recs[0].Resource["service.instance.id"] {
			t.Errorf("line %q: service.instance.id %v (first record's: %v)", line, r.Resource["service.instance.id"], recs[0].Resource["service.instance.id"])
		}
		wantSev := map[string]int{"true": 9, "false": 13}[want["audit.success"]]
		if r.SeverityNumber != wantSev {
			t.Errorf("line %q: severity %d, want %d", line, r.SeverityNumber, wantSev)
		}
	}
	for j, u := range used {
		if !u {
			t.Errorf("record with no line in audit.log (a duplicate?): %v", recordAttrs(recs[j]))
		}
	}
}

// TestForwardDemoSession runs the seed session, refusals and hostile paths
// against the demo forwarding to the example collector, over http/protobuf
// and over gRPC: every audit.log line arrives exactly once with the same
// values and its trace context.
func TestForwardDemoSession(t *testing.T) {
	skipShortCollector(t)
	for _, protocol := range []string{"http/protobuf", "grpc"} {
		t.Run(protocol, func(t *testing.T) {
			c := collectortest.Start(t, collectorConfig(t, "otlp-to-backend.yaml"),
				collectortest.WithExporters("logs", "file"))
			forwardTo(t, c, protocol)
			base, logPath, stop := demotest.Start(t, run, "NUM_PROXIES: 1\n")
			cl := &demotest.Client{T: t, Base: base, XFF: "10.10.10.145"}
			demotest.SeedSession(cl)
			cl.Token = ""
			cl.Do("POST", "/authentication/login/", map[string]string{"username": "demo2@example.com", "password": "wrong"})
			cl.Do("GET", "/datastore/bed4572d-6a28-4c00-94c2-dd45322de1d0/", nil)
			for _, p := range hostilePaths {
				cl.Do("GET", p, nil)
			}
			if err := stop(); err != nil {
				t.Fatalf("demo shutdown: %v", err)
			}
			lines := demotest.Lines(t, logPath)
			if want := len(seed.Lines) + 2 + len(hostilePaths); len(lines) != want {
				t.Fatalf("audit.log has %d lines, want %d", len(lines), want)
			}
			checkForwarded(t, lines, c.WaitForLogs(len(lines), time.Minute))
		})
	}
}

// droppedReader reads the otelaudit.forward.dropped counter of the global
// MeterProvider, which the demo's pipeline reports to.
func droppedReader(t *testing.T) func() int64 {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	prev := otel.GetMeterProvider()
	otel.SetMeterProvider(mp)
	t.Cleanup(func() {
		otel.SetMeterProvider(prev)
		_ = mp.Shutdown(context.Background())
	})
	return func() int64 { return metrictest.Sum(t, reader, "otelaudit.forward.dropped") }
}

// TestForwardCollectorOutage stops the collector in the middle of a run:
// audit.log holds every line as each response arrives, records sent after
// the collector is back arrive, and every record that never arrived is
// counted in otelaudit.forward.dropped. None arrives twice, and since the
// outage is short, none sent during it is lost either. Then the
// collector goes away for good: the demo still shuts down within its
// forwarding bound, not the exporter's one-minute retry, and counts what it
// could not deliver.
func TestForwardCollectorOutage(t *testing.T) {
	skipShortCollector(t)
	dropped := droppedReader(t)
	c := collectortest.Start(t, collectorConfig(t, "otlp-to-backend.yaml"),
		collectortest.WithExporters("logs", "file"))
	forwardTo(t, c, "http/protobuf")
	// The in-memory queue, whose losses are counted; the spool, which keeps
	// what it could not deliver, has its own outage test (TestSpoolOutageKill).
	base, logPath, stop := demotest.Start(t, run, "LOGGING_AUDIT_FORWARD_QUEUE: memory\n", "-forward-shutdown-timeout", "1s")
	cl := &demotest.Client{T: t, Base: base}

	const perPhase = 40
	sent := 0
	phase := func(name string) {
		for i := range perPhase {
			path := fmt.Sprintf("/%s/%d", name, i)
			cl.Do("GET", path, nil)
			sent++
			// Durability "write": the line is in audit.log before the
			// response, collector or not.
			lines := demotest.Lines(t, logPath)
			if len(lines) != sent {
				t.Fatalf("after %d responses audit.log has %d lines", sent, len(lines))
			}
			if !strings.Contains(lines[len(lines)-1], " req_url="+path+",") {
				t.Fatalf("last line of audit.log is not %s's: %s", path, lines[len(lines)-1])
			}
		}
	}
	arrived := func(recs []collectortest.LogRecord, prefix string) int {
		n := 0
		for _, r := range recs {
			if p, _ := r.Attributes[string(psono.ReqURL.Attr)].(string); strings.HasPrefix(p, prefix) {
				n++
			}
		}
		return n
	}

	phase("before")
	collectortest.WaitForLogsFunc(t, c.FilePath, time.Minute, func(rs []collectortest.LogRecord) bool {
		return arrived(rs, "/before/") == perPhase
	}, "the records sent before the outage")
	c.Stop()
	phase("during")
	c.Restart()
	phase("after")
	// The exporter may still be retrying a batch from the outage (its
	// backoff reaches 30 s); records of the third phase queue behind it.
	collectortest.WaitForLogsFunc(t, c.FilePath, 2*time.Minute, func(rs []collectortest.LogRecord) bool {
		return arrived(rs, "/after/") == perPhase
	}, "the records sent after the restart")
	c.Stop()
	phase("gone")
	start := time.Now()
	if err := stop(); err != nil {
		t.Fatalf("demo shutdown: %v", err)
	}
	// The bound is 1s; the exporter alone would retry for a minute.
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("shutdown with the collector gone took %v", d)
	}

	const total = 4 * perPhase
	lines := demotest.Lines(t, logPath)
	if len(lines) != total {
		t.Fatalf("audit.log has %d lines, want %d", len(lines), total)
	}
	recs, err := c.ReadLogs()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range recs {
		p, _ := r.Attributes[string(psono.ReqURL.Attr)].(string)
		if seen[p] {
			t.Errorf("record for %s arrived twice", p)
		}
		seen[p] = true
	}
	lost := int64(total - len(seen))
	t.Logf("of %d records, %d arrived (%d sent during the outage, %d after the collector was gone), %d counted as dropped",
		total, len(seen), arrived(recs, "/during/"), arrived(recs, "/gone/"), dropped())
	if arrived(recs, "/gone/") != 0 {
		t.Errorf("records sent with the collector gone arrived: the test did not test")
	}
	if got := dropped(); got != lost {
		t.Errorf("otelaudit.forward.dropped = %d, but %d records never arrived", got, lost)
	}
	// The outage is far shorter than the forwarding queue's retry window
	// for refused connections (30s), so the records sent during it arrive
	// too; those sent after the collector was gone for good cannot.
	for _, p := range []string{"/before/", "/during/", "/after/"} {
		if n := arrived(recs, p); n != perPhase {
			t.Errorf("records %s...: %d arrived, want %d", p, n, perPhase)
		}
	}
}

// TestForwardToVictoriaLogs sends the demo session through the example
// collector into a real VictoriaLogs and asks it, in LogsQL, for the
// session's events by event code and by user: it answers exactly the
// matching lines of audit.log.
func TestForwardToVictoriaLogs(t *testing.T) {
	skipShortCollector(t)
	vl := vlogstest.Start(t)
	c := collectortest.Start(t, collectorConfig(t, "otlp-to-backend.yaml"),
		collectortest.WithEnv("BACKEND_OTLP_ENDPOINT", vl.OTLPEndpoint))
	forwardTo(t, c, "http/protobuf")
	base, logPath, stop := demotest.Start(t, run, "NUM_PROXIES: 1\n")
	cl := &demotest.Client{T: t, Base: base, XFF: "10.10.10.145"}
	demotest.SeedSession(cl)
	cl.Token = ""
	cl.Do("POST", "/authentication/login/", map[string]string{"username": "demo2@example.com", "password": "wrong"})
	other := &demotest.Client{T: t, Base: base, XFF: "10.10.10.146"}
	_, out := other.Do("POST", "/authentication/login/", map[string]string{"username": "demo1@example.com", "password": "demo1"})
	other.Token, _ = out["token"].(string)
	other.Do("POST", "/authentication/activate-token/", nil)
	other.Do("GET", "/datastore/bed4572d-6a28-4c00-94c2-dd45322de1d0/", nil) // someone else's: 403
	if err := stop(); err != nil {
		t.Fatalf("demo shutdown: %v", err)
	}
	lines := demotest.Lines(t, logPath)
	vl.WaitQuery(t, "*", len(lines), time.Minute)

	queries := []struct {
		logsql string
		match  func(map[string]string) bool
	}{
		{`event_name:="LOGIN_STARTED_SUCCESS"`, func(m map[string]string) bool { return m["event_name"] == "LOGIN_STARTED_SUCCESS" }},
		{`event_name:="LOGIN_STARTED_ERROR"`, func(m map[string]string) bool { return m["event_name"] == "LOGIN_STARTED_ERROR" }},
		{`"user.name":="demo2@example.com"`, func(m map[string]string) bool { return m["user.name"] == "demo2@example.com" }},
		{`"user.name":="demo1@example.com" AND "audit.success":="false"`, func(m map[string]string) bool {
			return m["user.name"] == "demo1@example.com" && m["audit.success"] == "false"
		}},
	}
	for _, q := range queries {
		t.Run(q.logsql, func(t *testing.T) {
			var want []map[string]string
			for _, line := range lines {
				if m, _ := lineAttrs(t, line); q.match(m) {
					want = append(want, m)
				}
			}
			if len(want) == 0 {
				t.Fatalf("no line of audit.log matches %s: the test is wrong", q.logsql)
			}
			rows := vl.Query(t, q.logsql)
			if len(rows) != len(want) {
				t.Fatalf("%d rows, want %d: %v", len(rows), len(want), rows)
			}
			used := make([]bool, len(rows))
			for _, w := range want {
				ok := false
				for j, row := range rows {
					if !used[j] && rowMatches(row, w) {
						used[j], ok = true, true
						break
					}
				}
				if !ok {
					t.Errorf("no row for %v among %v", w, rows)
				}
			}
		})
	}
}

// rowMatches reports whether a VictoriaLogs row holds every attribute of
// want with the same text, and trace context.
func rowMatches(row, want map[string]string) bool {
	for k, v := range want {
		if row[k] != v {
			return false
		}
	}
	return len(row["trace_id"]) == 32 && len(row["span_id"]) == 16 && row["service.name"] == "psono-e2e"
}

// TestFilelogReadsDemoAuditLog has the example collector's filelog-psono.yaml
// tail the audit.log the demo wrote (hostile paths included): every line
// becomes a record with exactly the values the line holds, the same ones
// OTLP forwarding would have sent.
func TestFilelogReadsDemoAuditLog(t *testing.T) {
	skipShortCollector(t)
	base, logPath, stop := demotest.Start(t, run, "NUM_PROXIES: 1\n")
	cl := &demotest.Client{T: t, Base: base, XFF: "10.10.10.145"}
	demotest.SeedSession(cl)
	cl.Token = ""
	cl.Do("POST", "/authentication/login/", map[string]string{"username": "demo2@example.com", "password": "wrong"})
	for _, p := range hostilePaths {
		cl.Do("GET", p, nil)
	}
	cl.XFF = "203.0.113.7, 10.10.10.145" // a client-set entry ahead of the proxy's
	cl.Do("GET", "/info/", nil)
	if err := stop(); err != nil {
		t.Fatalf("demo shutdown: %v", err)
	}
	lines := demotest.Lines(t, logPath)

	c := collectortest.Start(t, collectorConfig(t, "filelog-psono.yaml"),
		collectortest.WithEnv("PSONO_AUDIT_LOG", logPath),
		collectortest.WithExporters("logs", "file"))
	recs := c.WaitForLogs(len(lines), time.Minute)
	if len(recs) != len(lines) {
		t.Fatalf("collector read %d records from %d lines", len(recs), len(lines))
	}
	for i, line := range lines {
		want, l := lineAttrs(t, line)
		if got := recordAttrs(recs[i]); !sameAttrs(got, want) {
			t.Errorf("line %d\n  %s\nbecame %v\n  want %v", i+1, line, got, want)
		}
		if got := string(psono.AppendTime(nil, recs[i].Timestamp.UTC())); got != l.Time {
			t.Errorf("line %d: timestamp %s, want %s", i+1, got, l.Time)
		}
	}
}
