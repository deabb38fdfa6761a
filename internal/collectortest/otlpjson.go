package collectortest

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"testing"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// LogRecord is one log record as the collector's file exporter wrote it,
// flattened with its resource and scope.
//
// Attribute values are string, bool, int64, float64, []byte, []any or
// map[string]any, following the OTLP AnyValue that carried them.
type LogRecord struct {
	Timestamp         time.Time // zero when the record had none
	ObservedTimestamp time.Time
	SeverityNumber    int
	SeverityText      string
	EventName         string
	Body              any // nil when the record has no body
	Attributes        map[string]any
	TraceID           string // lower-case hex, "" when unset
	SpanID            string // lower-case hex, "" when unset
	Resource          map[string]any
	ScopeName         string
	ScopeVersion      string
}

// hexID finds the trace and span ids of an OTLP/JSON line. OTLP/JSON differs
// from the protobuf JSON mapping in that one point: the ids are hex, not
// base64. A quote inside a JSON string is escaped, so the pattern cannot
// match within a value.
var hexID = regexp.MustCompile(`("(?:traceId|spanId)"\s*:\s*")([0-9a-fA-F]*)"`)

// DecodeLogs decodes the records of one OTLP/JSON ExportLogsServiceRequest
// (one line of the file exporter's default json format).
func DecodeLogs(line []byte) ([]LogRecord, error) {
	// Re-encode the hex ids in base64, which protojson expects for bytes.
	var idErr error
	line = hexID.ReplaceAllFunc(line, func(m []byte) []byte {
		sub := hexID.FindSubmatch(m)
		id, err := hex.DecodeString(string(sub[2]))
		if err != nil {
			idErr = fmt.Errorf("collectortest: %s: %w", m, err)
		}
		return fmt.Appendf(nil, "%s%s\"", sub[1], base64.StdEncoding.EncodeToString(id))
	})
	if idErr != nil {
		return nil, idErr
	}
	var req collogspb.ExportLogsServiceRequest
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(line, &req); err != nil {
		return nil, fmt.Errorf("collectortest: decode OTLP/JSON: %w", err)
	}
	var out []LogRecord
	for _, rl := range req.GetResourceLogs() {
		res := keyValues(rl.GetResource().GetAttributes())
		for _, sl := range rl.GetScopeLogs() {
			for _, lr := range sl.GetLogRecords() {
				out = append(out, LogRecord{
					Timestamp:         unixNano(lr.GetTimeUnixNano()),
					ObservedTimestamp: unixNano(lr.GetObservedTimeUnixNano()),
					SeverityNumber:    int(lr.GetSeverityNumber()),
					SeverityText:      lr.GetSeverityText(),
					EventName:         lr.GetEventName(),
					Body:              value(lr.GetBody()),
					Attributes:        keyValues(lr.GetAttributes()),
					TraceID:           hex.EncodeToString(lr.GetTraceId()),
					SpanID:            hex.EncodeToString(lr.GetSpanId()),
					Resource:          res,
					ScopeName:         sl.GetScope().GetName(),
					ScopeVersion:      sl.GetScope().GetVersion(),
				})
			}
		}
	}
	return out, nil
}

func unixNano(ns uint64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(ns)).UTC()
}

func keyValues(kvs []*commonpb.KeyValue) map[string]any {
	out := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		out[kv.GetKey()] = value(kv.GetValue())
	}
	return out
}

// value returns the Go value of v (see [LogRecord]); nil for an empty or
// missing value.
func value(v *commonpb.AnyValue) any {
	switch v := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return v.StringValue
	case *commonpb.AnyValue_BoolValue:
		return v.BoolValue
	case *commonpb.AnyValue_IntValue:
		return v.IntValue
	case *commonpb.AnyValue_DoubleValue:
		return v.DoubleValue
	case *commonpb.AnyValue_BytesValue:
		return v.BytesValue
	case *commonpb.AnyValue_ArrayValue:
		out := make([]any, 0, len(v.ArrayValue.GetValues()))
		for _, e := range v.ArrayValue.GetValues() {
			out = append(out, value(e))
		}
		return out
	case *commonpb.AnyValue_KvlistValue:
		return keyValues(v.KvlistValue.GetValues())
	}
	return nil
}

// ReadLogs decodes every complete line of a file written by the file
// exporter (format json, the default). A missing file holds no records yet;
// a last line without its newline is still being written and is skipped.
func ReadLogs(path string) ([]LogRecord, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("collectortest: %w", err)
	}
	var out []LogRecord
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		line := bytes.TrimSpace(data[:i])
		data = data[i+1:]
		if len(line) == 0 {
			continue
		}
		recs, err := DecodeLogs(line)
		if err != nil {
			return nil, err
		}
		out = append(out, recs...)
	}
	return out, nil
}

// WaitForLogs polls the file exporter output at path until it holds at
// least n records and returns them all; it fails t after timeout.
func WaitForLogs(t testing.TB, path string, n int, timeout time.Duration) []LogRecord {
	t.Helper()
	return WaitForLogsFunc(t, path, timeout, func(recs []LogRecord) bool { return len(recs) >= n },
		fmt.Sprintf("at least %d records", n))
}

// WaitForLogsFunc polls the file exporter output at path until done reports
// true for the records read so far, and returns them; it fails t after
// timeout, saying that it waited for what.
func WaitForLogsFunc(t testing.TB, path string, timeout time.Duration, done func([]LogRecord) bool, what string) []LogRecord {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		recs, err := ReadLogs(path)
		if err != nil {
			t.Fatalf("collectortest: %v", err)
		}
		if done(recs) {
			return recs
		}
		select {
		case <-deadline.C:
			t.Fatalf("collectortest: waited %s for %s in %s, have %d records", timeout, what, path, len(recs))
		case <-tick.C:
		}
	}
}
