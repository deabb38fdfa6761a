package vlogstest_test

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit/internal/vlogstest"
)

// TestOTLPIngestAndQuery sends records straight to VictoriaLogs' OTLP API
// and checks how they are stored, in particular that the EventName is kept
// (as event_name), and that data survives a restart.
func TestOTLPIngestAndQuery(t *testing.T) {
	if testing.Short() {
		t.Skip("installs and runs VictoriaLogs; skipped with -short")
	}
	vl := vlogstest.Start(t)

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	exp, err := otlploghttp.New(ctx, otlploghttp.WithEndpointURL(vl.OTLPEndpoint+"/v1/logs"))
	if err != nil {
		t.Fatal(err)
	}
	lp := sdklog.NewLoggerProvider(
		sdklog.WithResource(resource.NewSchemaless(attribute.String("service.name", "vlogstest"))),
		sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))
	ts := time.Date(2020, 5, 24, 7, 55, 41, 473771000, time.UTC)
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	for i, event := range []string{"LIST_DATASTORE_SUCCESS", "READ_INFO_SUCCESS", "LIST_DATASTORE_SUCCESS"} {
		var rec log.Record
		rec.SetTimestamp(ts.Add(time.Duration(i) * time.Second))
		rec.SetEventName(event)
		rec.SetSeverity(log.SeverityInfo)
		rec.AddAttributes(
			attribute.String("user.name", "demo2@example.com"),
			attribute.Int("http.response.status_code", 200+i),
			attribute.Bool("audit.success", true))
		ectx := trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid}))
		lp.Logger("vlogstest").Emit(ectx, rec)
	}
	if err := lp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	rows := vl.Query(t, `event_name:="LIST_DATASTORE_SUCCESS" | sort by (_time)`)
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2: %v", len(rows), rows)
	}
	want := map[string]string{
		"event_name":                "LIST_DATASTORE_SUCCESS",
		"_stream":                   `{event_name="LIST_DATASTORE_SUCCESS",service.name="vlogstest"}`,
		"_time":                     "2020-05-24T07:55:41.473771Z",
		"service.name":              "vlogstest",
		"user.name":                 "demo2@example.com",
		"http.response.status_code": "200",
		"audit.success":             "true",
		"trace_id":                  "4bf92f3577b34da6a3ce929d0e0e4736",
		"span_id":                   "00f067aa0ba902b7",
		"severity_number":           "9",
		"severity_text":             "Info", // no SeverityText sent: VictoriaLogs names the number
		"scope.name":                "vlogstest",
	}
	for k, w := range want {
		if g := rows[0][k]; g != w {
			t.Errorf("field %s = %q, want %q", k, g, w)
		}
	}

	// Data is on disk after a restart.
	vl.Restart()
	if rows := vl.Query(t, `"user.name":="demo2@example.com"`); len(rows) != 3 {
		t.Errorf("after restart: %d rows, want 3", len(rows))
	}
}
