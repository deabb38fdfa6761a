package otelaudit

import (
	"context"

	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/forward"
	"github.com/otelaudit/otelaudit/siem"
)

// forwardStage sends the records over OTLP, configured by the standard
// OTEL_EXPORTER_OTLP_* environment (forward.Configured) or by
// WithForwardExporter, when LOGGING_AUDIT_FORWARD_QUEUE is memory: through a
// bounded forward.Queue that never blocks a request and never touches the
// file's path, in the schema
// LOGGING_AUDIT_FORWARD_SCHEMA names (siem.Exporter; by default the
// Psono line is each record's body).
var forwardStage = stage{name: "forward", build: buildForward}

func buildForward(s config.Settings, e *env) (sdklog.Processor, error) {
	if !s.Enabled || s.ForwardQueue != "memory" { // by default the spool stage forwards
		return nil, nil
	}
	exp, err := forwardExporter(s, e)
	if exp == nil || err != nil {
		return nil, err
	}
	opts := []forward.QueueOption{forward.WithShutdownTimeout(e.opts.forwardTimeout), forward.WithErrorLog(e.errorLog)}
	if e.mp != nil {
		opts = append(opts, forward.WithMeterProvider(e.mp))
	}
	if e.opts.queueSize > 0 {
		opts = append(opts, forward.WithQueueSize(e.opts.queueSize))
	}
	return forward.NewQueue(forward.ValidUTF8(forward.RetryRefused(exp, forward.DefaultRetryWindow)), opts...), nil
}

// forwardExporter returns the OTLP exporter records are forwarded to, in the
// schema LOGGING_AUDIT_FORWARD_SCHEMA names, or nil when forwarding is not
// configured: WithForwardExporter's, else the one the OTEL_EXPORTER_OTLP_*
// environment describes. The schema's decorator is innermost, so that
// forward.ValidUTF8, which the forwarding stages put in front, still cleans
// what it makes (the Psono line as the body, the OCSF event, the ECS names).
func forwardExporter(s config.Settings, e *env) (sdklog.Exporter, error) {
	exp := e.opts.forward
	if exp == nil {
		if !forwarding(e) {
			return nil, nil
		}
		var err error
		if exp, err = forward.NewExporter(context.Background()); err != nil {
			return nil, err
		}
	}
	schema, err := siem.ParseSchema(s.ForwardSchema)
	if err != nil {
		return nil, err
	}
	return siem.Exporter(exp, schema, s.Time.Location()), nil
}

// forwarding reports whether the records are forwarded: WithForwardExporter
// was given, or the OTEL_EXPORTER_OTLP_* environment asks for it
// (forward.Configured).
func forwarding(e *env) bool { return e.opts.forward != nil || forward.Configured() }
