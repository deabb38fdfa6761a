package collectortest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"testing"
	"time"
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

// The OTLP/JSON shapes (ExportLogsServiceRequest), as far as they are read.
type (
	jsonRequest struct {
		ResourceLogs []struct {
			Resource struct {
				Attributes []jsonKeyValue `json:"attributes"`
			} `json:"resource"`
			ScopeLogs []struct {
				Scope struct {
					Name    string `json:"name"`
					Version string `json:"version"`
				} `json:"scope"`
				LogRecords []jsonLogRecord `json:"logRecords"`
			} `json:"scopeLogs"`
		} `json:"resourceLogs"`
	}
	jsonLogRecord struct {
		TimeUnixNano         json.Number    `json:"timeUnixNano"`
		ObservedTimeUnixNano json.Number    `json:"observedTimeUnixNano"`
		SeverityNumber       int            `json:"severityNumber"`
		SeverityText         string         `json:"severityText"`
		EventName            string         `json:"eventName"`
		Body                 *jsonAnyValue  `json:"body"`
		Attributes           []jsonKeyValue `json:"attributes"`
		TraceID              string         `json:"traceId"`
		SpanID               string         `json:"spanId"`
	}
	jsonKeyValue struct {
		Key   string       `json:"key"`
		Value jsonAnyValue `json:"value"`
	}
	jsonAnyValue struct {
		StringValue *string      `json:"stringValue"`
		BoolValue   *bool        `json:"boolValue"`
		IntValue    *json.Number `json:"intValue"`
		DoubleValue *json.Number `json:"doubleValue"`
		BytesValue  *string      `json:"bytesValue"`
		ArrayValue  *struct {
			Values []jsonAnyValue `json:"values"`
		} `json:"arrayValue"`
		KvlistValue *struct {
			Values []jsonKeyValue `json:"values"`
		} `json:"kvlistValue"`
	}
)

func (v *jsonAnyValue) decode() (any, error) {
	switch {
	case v == nil:
		return nil, nil
	case v.StringValue != nil:
		return *v.StringValue, nil
	case v.BoolValue != nil:
		return *v.BoolValue, nil
	case v.IntValue != nil:
		return strconv.ParseInt(v.IntValue.String(), 10, 64)
	case v.DoubleValue != nil:
		return strconv.ParseFloat(v.DoubleValue.String(), 64)
	case v.BytesValue != nil:
		return base64.StdEncoding.DecodeString(*v.BytesValue)
	case v.ArrayValue != nil:
		out := make([]any, 0, len(v.ArrayValue.Values))
		for i := range v.ArrayValue.Values {
			e, err := v.ArrayValue.Values[i].decode()
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		return out, nil
	case v.KvlistValue != nil:
		return decodeKeyValues(v.KvlistValue.Values)
	default:
		return nil, nil // an empty AnyValue: {}
	}
}

func decodeKeyValues(kvs []jsonKeyValue) (map[string]any, error) {
	out := make(map[string]any, len(kvs))
	for i := range kvs {
		v, err := kvs[i].Value.decode()
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", kvs[i].Key, err)
		}
		out[kvs[i].Key] = v
	}
	return out, nil
}

func decodeNanos(n json.Number) (time.Time, error) {
	if n == "" {
		return time.Time{}, nil
	}
	ns, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil || ns == 0 {
		return time.Time{}, err
	}
	return time.Unix(0, ns).UTC(), nil
}

// DecodeLogs decodes the records of one OTLP/JSON ExportLogsServiceRequest
// (one line of the file exporter's default json format).
func DecodeLogs(line []byte) ([]LogRecord, error) {
	var req jsonRequest
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		return nil, fmt.Errorf("collectortest: decode OTLP/JSON: %w", err)
	}
	var out []LogRecord
	for _, rl := range req.ResourceLogs {
		res, err := decodeKeyValues(rl.Resource.Attributes)
		if err != nil {
			return nil, fmt.Errorf("collectortest: resource: %w", err)
		}
		for _, sl := range rl.ScopeLogs {
			for _, jr := range sl.LogRecords {
				r := LogRecord{
					SeverityNumber: jr.SeverityNumber,
					SeverityText:   jr.SeverityText,
					EventName:      jr.EventName,
					TraceID:        jr.TraceID,
					SpanID:         jr.SpanID,
					Resource:       res,
					ScopeName:      sl.Scope.Name,
					ScopeVersion:   sl.Scope.Version,
				}
				if r.Timestamp, err = decodeNanos(jr.TimeUnixNano); err != nil {
					return nil, fmt.Errorf("collectortest: timeUnixNano: %w", err)
				}
				if r.ObservedTimestamp, err = decodeNanos(jr.ObservedTimeUnixNano); err != nil {
					return nil, fmt.Errorf("collectortest: observedTimeUnixNano: %w", err)
				}
				if r.Body, err = jr.Body.decode(); err != nil {
					return nil, fmt.Errorf("collectortest: body: %w", err)
				}
				if r.Attributes, err = decodeKeyValues(jr.Attributes); err != nil {
					return nil, fmt.Errorf("collectortest: %w", err)
				}
				out = append(out, r)
			}
		}
	}
	return out, nil
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
