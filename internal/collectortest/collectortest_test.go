package collectortest_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/internal/collectortest"
)

// A line as the file exporter writes it (format json), trimmed to what the
// decoder reads, with one value of every type.
const exportLine = `{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},` +
	`"scopeLogs":[{"scope":{"name":"scope-a","version":"1.2"},"logRecords":[` +
	`{"timeUnixNano":"1590306941473771000","observedTimeUnixNano":"1590306942000000000","severityNumber":9,"severityText":"INFO",` +
	`"eventName":"LIST_DATASTORE_SUCCESS","body":{},"attributes":[` +
	`{"key":"s","value":{"stringValue":"a \"b\""}},{"key":"i","value":{"intValue":"200"}},{"key":"b","value":{"boolValue":true}},` +
	`{"key":"d","value":{"doubleValue":1.5}},{"key":"by","value":{"bytesValue":"AQI="}},` +
	`{"key":"arr","value":{"arrayValue":{"values":[{"stringValue":"x"},{"intValue":"1"}]}}},` +
	`{"key":"kv","value":{"kvlistValue":{"values":[{"key":"k","value":{"stringValue":"v"}}]}}}],` +
	`"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7"},` +
	`{"body":{"stringValue":"raw line"}}]}]}]}`

func TestDecodeLogs(t *testing.T) {
	got, err := collectortest.DecodeLogs([]byte(exportLine))
	if err != nil {
		t.Fatal(err)
	}
	res := map[string]any{"service.name": "svc"}
	want := []collectortest.LogRecord{
		{
			Timestamp:         time.Date(2020, 5, 24, 7, 55, 41, 473771000, time.UTC),
			ObservedTimestamp: time.Date(2020, 5, 24, 7, 55, 42, 0, time.UTC),
			SeverityNumber:    9,
			SeverityText:      "INFO",
			EventName:         "LIST_DATASTORE_SUCCESS",
			Attributes: map[string]any{
				"s":   `a "b"`,
				"i":   int64(200),
				"b":   true,
				"d":   1.5,
				"by":  []byte{1, 2},
				"arr": []any{"x", int64(1)},
				"kv":  map[string]any{"k": "v"},
			},
			TraceID:      "4bf92f3577b34da6a3ce929d0e0e4736",
			SpanID:       "00f067aa0ba902b7",
			Resource:     res,
			ScopeName:    "scope-a",
			ScopeVersion: "1.2",
		},
		{
			Body:         "raw line",
			Attributes:   map[string]any{},
			Resource:     res,
			ScopeName:    "scope-a",
			ScopeVersion: "1.2",
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DecodeLogs:\n got %#v\nwant %#v", got, want)
	}
}

func TestReadLogs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "export.jsonl")

	recs, err := collectortest.ReadLogs(path)
	if err != nil || len(recs) != 0 {
		t.Fatalf("missing file: %v, %v; want no records and no error", recs, err)
	}

	// Two complete lines and one still being written.
	data := exportLine + "\n\n" + exportLine + "\n" + exportLine[:40]
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	recs, err = collectortest.ReadLogs(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 {
		t.Errorf("ReadLogs: %d records, want 4", len(recs))
	}

	if err := os.WriteFile(path, []byte("{not json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := collectortest.ReadLogs(path); err == nil {
		t.Error("ReadLogs of a broken line: no error")
	}
}

// minimalConfig receives OTLP/HTTP and writes to the file exporter,
// appending, so that the file survives restarts.
const minimalConfig = `
extensions:
  health_check:
    endpoint: ${env:HEALTH_CHECK_ENDPOINT}
receivers:
  otlp:
    protocols:
      http:
        endpoint: ${env:OTLP_HTTP_ENDPOINT}
exporters:
  file:
    path: ${env:FILE_EXPORT_PATH}
    append: true
    flush_interval: 100ms
service:
  extensions: [health_check]
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [file]
`

func send(t *testing.T, endpoint, event string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	exp, err := otlploghttp.New(ctx, otlploghttp.WithEndpoint(endpoint), otlploghttp.WithInsecure(),
		otlploghttp.WithRetry(otlploghttp.RetryConfig{Enabled: false}))
	if err != nil {
		t.Fatal(err)
	}
	var rec sdklog.Record
	rec.SetTimestamp(time.Now())
	rec.SetEventName(event)
	rec.SetSeverity(log.SeverityInfo)
	rec.AddAttributes(attribute.String("k", event))
	err = exp.Export(ctx, []sdklog.Record{rec})
	if shutErr := exp.Shutdown(ctx); err == nil {
		err = shutErr
	}
	return err
}

// TestStartStopRestart runs the collector, stops it (an outage: sending
// fails), and restarts it on the same ports.
func TestStartStopRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the example collector; skipped with -short")
	}
	c := collectortest.Start(t, minimalConfig)
	if !c.Running() {
		t.Fatal("collector not running after Start")
	}
	if err := send(t, c.HTTPEndpoint, "FIRST"); err != nil {
		t.Fatalf("send to running collector: %v", err)
	}
	c.WaitForLogs(1, 30*time.Second)

	c.Stop()
	if c.Running() {
		t.Fatal("collector running after Stop")
	}
	if err := send(t, c.HTTPEndpoint, "DURING_OUTAGE"); err == nil {
		t.Fatal("send to a stopped collector succeeded")
	}
	c.Stop() // stopping twice is fine

	endpoint := c.HTTPEndpoint
	c.Restart()
	if c.HTTPEndpoint != endpoint {
		t.Fatalf("endpoint changed across Restart: %s -> %s", endpoint, c.HTTPEndpoint)
	}
	if err := send(t, c.HTTPEndpoint, "SECOND"); err != nil {
		t.Fatalf("send after restart: %v", err)
	}
	recs := c.WaitForLogs(2, 30*time.Second)
	var events []string
	for _, r := range recs {
		events = append(events, r.EventName)
	}
	if !reflect.DeepEqual(events, []string{"FIRST", "SECOND"}) {
		t.Errorf("events %q, want FIRST, SECOND", events)
	}
}
