package otelaudit_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit"
	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/instrument/route/routertest"
	"github.com/otelaudit/otelaudit/sdklogtest"
)

// TestRecordEvents: events that are not requests go through the filter into
// audit.log with the documented shape; one recorded inside a request carries
// the request's trace id.
func TestRecordEvents(t *testing.T) {
	dir := t.TempDir()
	s := config.Default()
	s.Enabled, s.Folder = true, dir
	s.Blacklist = []string{"NOISY_*"}
	exp := &sdklogtest.Recorder{}
	a, err := otelaudit.New(s, otelaudit.WithHostName("jobs-host"), otelaudit.WithForwardExporter(exp))
	if err != nil {
		t.Fatal(err)
	}
	events := []instrument.Event{
		{Event: "DELETE_EXPIRED_SHARES_SUCCESS", Logger: "jobs.cleanup", Success: true,
			Kwargs: []instrument.Kwarg{{Name: "count", Value: 3}, {Name: "dry run", Value: false}, {Name: "ids", Value: []string{"a", "b"}}}},
		{Event: "NOISY_TICK_SUCCESS", Success: true},
		{Event: "RESET_PASSWORD_ERROR", User: "demo2@example.com", UserID: "ba50", Kwargs: []instrument.Kwarg{{Name: "reason", Value: nil}}},
		{Success: true},
	}
	for _, ev := range events {
		if err := a.Record(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	var traceID trace.TraceID
	srv := httptest.NewServer(a.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		traceID = trace.SpanContextFromContext(r.Context()).TraceID()
		_ = a.Record(r.Context(), instrument.Event{Event: "EXPORT_STARTED_SUCCESS", Success: true})
	})))
	resp, err := srv.Client().Get(srv.URL + "/export")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	srv.Close()
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"logger=jobs.cleanup, user_ip=None, req_method=None, req_url=None, success=True, hostname=jobs-host, status=None, event=DELETE_EXPIRED_SHARES_SUCCESS, kwarg_count=3, kwarg_dry_run=False, kwarg_ids=\"['a', 'b']\"",
		"logger=otelaudit.event, user_ip=None, req_method=None, req_url=None, success=False, hostname=jobs-host, status=None, event=RESET_PASSWORD_ERROR, user=demo2@example.com, user_id=ba50, kwarg_reason=None",
		"logger=otelaudit.event, user_ip=None, req_method=None, req_url=None, success=True, hostname=jobs-host, status=None, event=EVENT_SUCCESS",
		"logger=otelaudit.event, user_ip=None, req_method=None, req_url=None, success=True, hostname=jobs-host, status=None, event=EXPORT_STARTED_SUCCESS",
	}
	lines := routertest.ReadLines(t, filepath.Join(dir, "audit.log"))
	if len(lines) != len(want)+1 { // and the request's own line
		t.Fatalf("got %d lines:\n%q", len(lines), lines)
	}
	for i, w := range want {
		if _, rest, _ := cutTime(lines[i]); rest != w {
			t.Errorf("line %d:\n got %s\nwant %s", i+1, rest, w)
		}
	}
	if !traceID.IsValid() {
		t.Fatal("request had no trace id")
	}
	recs := exp.Records()
	found := false
	for _, r := range recs {
		if r.EventName() == "EXPORT_STARTED_SUCCESS" {
			found = true
			if r.TraceID() != traceID {
				t.Errorf("event inside a request: trace id %v, want the request's %v", r.TraceID(), traceID)
			}
		}
	}
	if !found || len(recs) != len(lines) {
		t.Errorf("forwarded %d records, want %d with EXPORT_STARTED_SUCCESS", len(recs), len(lines))
	}
}

func cutTime(line string) (string, string, bool) {
	for i := range line {
		if line[i] == ' ' {
			return line[:i], line[i+1:], true
		}
	}
	return line, "", false
}
