package otelauditgrpc_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/otelaudit/otelaudit/internal/collectortest"
)

// TestCollector forwards the records of gRPC calls over OTLP/gRPC, set up
// by the standard environment variables only, to the real example
// collector of examples/collector (built from its manifest and cached, see
// internal/collectortest): each call's record arrives with its event, the
// rpc.* attributes and the call's trace and span ids.
func TestCollector(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the example collector; skipped with -short")
	}
	dir, err := collectortest.ExampleDir()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(filepath.Join(dir, "otlp-to-backend.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c := collectortest.Start(t, string(cfg), collectortest.WithExporters("logs", "file"))
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+c.GRPCEndpoint)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	t.Setenv("OTEL_SERVICE_NAME", "grpc-e2e")

	srv := start(t, setup{envForward: true})
	srv.unary(t, "span", "authorization", "Bearer alice")
	srv.stream(t, "span")
	if _, err := healthpb.NewHealthClient(srv.conn).Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	srv.shutdown() // delivers what the forwarder holds

	recs := c.WaitForLogs(3, time.Minute)
	want := []struct{ event, method, code, user string }{
		{"OTELAUDIT_TEST_V1_TEST_CALL_SUCCESS", "otelaudit.test.v1.Test/Call", "OK", "alice"},
		{"OTELAUDIT_TEST_V1_TEST_LIST_SUCCESS", "otelaudit.test.v1.Test/List", "OK", ""},
		{"GRPC_HEALTH_V1_HEALTH_CHECK_SUCCESS", "grpc.health.v1.Health/Check", "OK", ""},
	}
	if len(recs) != len(want) {
		t.Fatalf("the collector got %d records, want %d", len(recs), len(want))
	}
	for i, r := range recs {
		w := want[i]
		a := r.Attributes
		if r.EventName != w.event || a["rpc.system.name"] != "grpc" || a["rpc.method"] != w.method ||
			a["rpc.response.status_code"] != w.code || a["url.path"] != "/"+w.method ||
			a["http.request.method"] != "POST" || a["client.address"] != "127.0.0.1" {
			t.Errorf("record %d: %s %v", i, r.EventName, a)
		}
		if w.user != "" && a["user.name"] != w.user {
			t.Errorf("record %d: user %v, want %s", i, a["user.name"], w.user)
		}
		if r.TraceID == "" || r.SpanID == "" {
			t.Errorf("record %d has no trace context: %q %q", i, r.TraceID, r.SpanID)
		}
		if span, ok := a["audit.kwarg.span"]; ok && span != r.SpanID {
			t.Errorf("record %d: span %s, the handler's %v", i, r.SpanID, span)
		}
		if r.Resource["service.name"] != "grpc-e2e" {
			t.Errorf("record %d: resource %v", i, r.Resource)
		}
	}
}
