package forward

import (
	"context"
	"fmt"
	"os"

	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/forward/otlpwire"
)

// Configured reports whether the environment asks for OTLP
// forwarding: OTEL_EXPORTER_OTLP_LOGS_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT
// is set and not empty.
func Configured() bool {
	return os.Getenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != ""
}

// NewExporter returns the OTLP log exporter the standard environment
// variables describe: OTEL_EXPORTER_OTLP_[LOGS_]PROTOCOL chooses grpc or
// http/protobuf (the default); endpoint, headers, TLS, timeout and
// compression are read by the exporter itself from
// OTEL_EXPORTER_OTLP_[LOGS_]*. http/protobuf is sent by otlpwire, which
// encodes the records straight into the wire format (about a third of
// otlploghttp's CPU per record, the same bytes on the wire); it does not
// retry by itself, so put RetryRefused (or the spool) in front. grpc is
// otlploggrpc's.
func NewExporter(ctx context.Context) (sdklog.Exporter, error) {
	proto := os.Getenv("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL")
	if proto == "" {
		proto = os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	switch proto {
	case "", "http/protobuf":
		exp, err := otlpwire.New(ctx)
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
