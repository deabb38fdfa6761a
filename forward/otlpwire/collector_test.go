package otlpwire

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/otelaudit/otelaudit/internal/collectortest"
)

// collectorConfig receives OTLP/HTTP and writes every request twice: as
// OTLP/JSON lines (read with collectortest's helpers) and as length-prefixed
// protobuf messages (compared whole).
const collectorConfig = `
extensions:
  health_check:
    endpoint: ${env:HEALTH_CHECK_ENDPOINT}
receivers:
  otlp:
    protocols:
      http:
        endpoint: ${env:OTLP_HTTP_ENDPOINT}
exporters:
  file/json:
    path: ${env:FILE_EXPORT_PATH}
  file/proto:
    path: ${env:PROTO_EXPORT_PATH}
    format: proto
    flush_interval: 100ms
service:
  extensions: [health_check]
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [file/json, file/proto]
`

// TestRealCollector sends every batch of TestAppendRequestMatchesOtlploghttp
// through the Exporter, plain and gzip-compressed and configured from the
// environment, to the project's real OpenTelemetry Collector. Each request
// the collector wrote out must equal what otlploghttp sends for the same
// batch, and the Psono batch must read back field by field through
// collectortest's OTLP/JSON decoding.
func TestRealCollector(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the example collector; skipped with -short")
	}
	protoPath := filepath.Join(t.TempDir(), "export.binpb")
	c := collectortest.Start(t, collectorConfig, collectortest.WithEnv("PROTO_EXPORT_PATH", protoPath))

	ref := newReference(t) // clears the OTLP variables
	cases := encodeCases(t)
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range cases {
			if !yield(k) {
				return
			}
		}
	})

	var want []*collogspb.ExportLogsServiceRequest
	for _, compression := range []string{"none", "gzip"} {
		t.Setenv(EnvLogsEndpoint, "http://"+c.HTTPEndpoint+"/v1/logs")
		t.Setenv(EnvCompression, compression)
		exp, err := New(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			std, err := ref.request(cases[name])
			if err != nil {
				t.Fatalf("%s: otlploghttp: %v", name, err)
			}
			want = append(want, std)
			if err := exp.Export(context.Background(), cases[name]); err != nil {
				t.Fatalf("%s (compression %s): %v", name, compression, err)
			}
		}
		if err := exp.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}

	// Every request, whole.
	got := waitForRequests(t, protoPath, len(want), 30*time.Second)
	for i := range want {
		name := fmt.Sprintf("%s (compression %s)", names[i%len(names)], []string{"none", "gzip"}[i/len(names)])
		g, w := got[i], want[i]
		normalize(g)
		dropEmptyMessages(g.ProtoReflect())
		dropEmptyMessages(w.ProtoReflect())
		if !proto.Equal(g, w) {
			t.Errorf("%s: the collector wrote another request than otlploghttp sends:\n%s", name, diff(g, w))
		}
	}

	// The Psono batch through the OTLP/JSON helpers.
	total := 0
	for _, w := range want {
		for _, rl := range w.ResourceLogs {
			for _, sl := range rl.ScopeLogs {
				total += len(sl.LogRecords)
			}
		}
	}
	recs := collectortest.WaitForLogs(t, c.FilePath, total, 30*time.Second)
	psono := cases["psono batch"]
	var seen int
	for _, r := range recs {
		if r.EventName != "psono.audit" || r.ScopeName != "otelaudit" || r.ScopeVersion != "" || r.Resource["service.name"] != "psono" {
			continue
		}
		rid, ok := r.Attributes["request_id"].(int64)
		if !ok || rid < 100000 || rid >= 100000+int64(len(psono)) {
			continue
		}
		seen++
		src := &psono[rid-100000]
		if body, _ := r.Body.(string); body != psonoBody {
			t.Errorf("record %d: body %q", rid, r.Body)
		}
		if r.TraceID != hex.EncodeToString(traceID[:]) || r.SpanID != hex.EncodeToString(spanID[:]) {
			t.Errorf("record %d: trace %s span %s", rid, r.TraceID, r.SpanID)
		}
		if !r.Timestamp.Equal(src.Timestamp()) || !r.ObservedTimestamp.Equal(src.ObservedTimestamp()) ||
			r.SeverityNumber != int(src.Severity()) || r.SeverityText != "INFO" {
			t.Errorf("record %d: time %v observed %v severity %d %q", rid, r.Timestamp, r.ObservedTimestamp, r.SeverityNumber, r.SeverityText)
		}
		if r.Resource["host.name"] != "audit-1" || r.Resource["pid"] != int64(4242) {
			t.Errorf("record %d: resource %v", rid, r.Resource)
		}
		src.WalkAttributes(func(kv attribute.KeyValue) bool {
			if got := r.Attributes[string(kv.Key)]; got != kv.Value.AsInterface() {
				t.Errorf("record %d: attribute %s = %v (%T), want %v", rid, kv.Key, got, got, kv.Value.AsInterface())
			}
			return true
		})
		if len(r.Attributes) != src.AttributesLen() {
			t.Errorf("record %d: %d attributes, want %d", rid, len(r.Attributes), src.AttributesLen())
		}
	}
	if seen != 2*len(psono) {
		t.Errorf("found %d records of the Psono batch in the OTLP/JSON output, want %d (sent plain and gzipped)", seen, 2*len(psono))
	}
}

// waitForRequests polls the file exporter's protobuf output until it holds
// n requests, and returns them.
func waitForRequests(t *testing.T, path string, n int, timeout time.Duration) []*collogspb.ExportLogsServiceRequest {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		reqs, err := readRequests(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(reqs) >= n {
			return reqs
		}
		select {
		case <-deadline.C:
			t.Fatalf("waited %s for %d requests in %s, have %d", timeout, n, path, len(reqs))
		case <-tick.C:
		}
	}
}

// readRequests reads the complete messages of a file exporter's proto
// output: each a 4-byte big-endian length, then an ExportLogsServiceRequest.
func readRequests(path string) ([]*collogspb.ExportLogsServiceRequest, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*collogspb.ExportLogsServiceRequest
	for len(data) >= 4 {
		n := int(binary.BigEndian.Uint32(data))
		if len(data) < 4+n {
			break // still being written
		}
		req := &collogspb.ExportLogsServiceRequest{}
		if err := proto.Unmarshal(data[4:4+n], req); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, req)
		data = data[4+n:]
	}
	return out, nil
}

// dropEmptyMessages clears every singular message field that holds an
// empty message. The collector's pdata writes a Resource, a scope and a
// body even when empty; otlploghttp leaves an empty Resource and the zero
// scope out. In OTLP an empty message and none mean the same.
func dropEmptyMessages(m protoreflect.Message) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			for i := range v.List().Len() {
				dropEmptyMessages(v.List().Get(i).Message())
			}
		case fd.Message() != nil && !fd.IsMap():
			dropEmptyMessages(v.Message())
			if proto.Size(v.Message().Interface()) == 0 && fd.ContainingOneof() == nil {
				m.Clear(fd)
			}
		}
		return true
	})
}
