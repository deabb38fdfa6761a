package otelaudit

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// DefaultForwardShutdownTimeout bounds how long Shutdown waits for the OTLP
// forwarder to deliver what is still queued.
const DefaultForwardShutdownTimeout = 5 * time.Second

// ForwardingConfigured reports whether the environment asks for OTLP
// forwarding: OTEL_EXPORTER_OTLP_LOGS_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT
// is set and not empty.
func ForwardingConfigured() bool {
	return os.Getenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != ""
}

// newOTLPExporter makes the OTLP log exporter the standard environment
// variables describe: OTEL_EXPORTER_OTLP_[LOGS_]PROTOCOL chooses grpc or
// http/protobuf (the default); endpoint, headers, TLS, timeout and
// compression are read by the exporter itself from
// OTEL_EXPORTER_OTLP_[LOGS_]*.
func newOTLPExporter(ctx context.Context) (sdklog.Exporter, error) {
	proto := os.Getenv("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL")
	if proto == "" {
		proto = os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	switch proto {
	case "", "http/protobuf":
		exp, err := otlploghttp.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("OTLP forwarding over http/protobuf: %w", err)
		}
		return exp, nil
	case "grpc":
		exp, err := otlploggrpc.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("OTLP forwarding over grpc: %w", err)
		}
		return exp, nil
	}
	return nil, fmt.Errorf("OTLP forwarding: protocol %q is not supported; set OTEL_EXPORTER_OTLP_LOGS_PROTOCOL to grpc or http/protobuf", proto)
}

// validUTF8Exporter makes every string of a record valid UTF-8 before
// handing the batch on. An OTLP string must be UTF-8 and the protobuf
// encoder refuses a message holding anything else, so a single request with
// invalid UTF-8 in its path would otherwise fail the export of its whole
// batch. Each run of invalid bytes becomes U+FFFD, as the example
// collector's file_log configuration does for audit.log lines. It runs on
// the forwarding queue's worker, never on a request's path; audit.log keeps
// the exact bytes (escaped).
type validUTF8Exporter struct {
	sdklog.Exporter
}

func (e validUTF8Exporter) Export(ctx context.Context, records []sdklog.Record) error {
	for i := range records {
		sanitizeRecord(&records[i])
	}
	return e.Exporter.Export(ctx, records)
}

// sanitizeRecord replaces invalid UTF-8 in r's event name and string
// attributes, leaving a valid record untouched.
func sanitizeRecord(r *sdklog.Record) {
	if name := r.EventName(); !utf8.ValidString(name) {
		r.SetEventName(strings.ToValidUTF8(name, "\uFFFD"))
	}
	valid := true
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		valid = utf8.ValidString(string(kv.Key)) &&
			(kv.Value.Type() != attribute.STRING || utf8.ValidString(kv.Value.AsString()))
		return valid
	})
	if valid {
		return
	}
	attrs := make([]attribute.KeyValue, 0, r.AttributesLen())
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		kv.Key = attribute.Key(strings.ToValidUTF8(string(kv.Key), "\uFFFD"))
		if kv.Value.Type() == attribute.STRING {
			kv.Value = attribute.StringValue(strings.ToValidUTF8(kv.Value.AsString(), "\uFFFD"))
		}
		attrs = append(attrs, kv)
		return true
	})
	r.SetAttributes(attrs...)
}
