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
// WithForwardExporter, through a bounded forward.Queue that never blocks a
// request and never touches the file's path, in the schema
// LOGGING_AUDIT_FORWARD_SCHEMA names (siem.Exporter; by default the
// Psono line is each record's body).
var forwardStage = stage{name: "forward", build: buildForward}

func buildForward(s config.Settings, e *env) (sdklog.Processor, error) {
	if !s.Enabled {
		return nil, nil
	}
	exp := e.opts.forward
	if exp == nil {
		if !forward.Configured() {
			return nil, nil
		}
		var err error
		if exp, err = forward.NewExporter(context.Background()); err != nil {
			return nil, err
		}
	}
	// The schema's decorator is innermost, so that ValidUTF8 still cleans
	// what it makes (the Psono line as the body, the OCSF event, the ECS
	// names).
	schema, err := siem.ParseSchema(s.ForwardSchema)
	if err != nil {
		return nil, err
	}
	exp = siem.Exporter(exp, schema, s.Time.Location())
	opts := []forward.QueueOption{forward.WithShutdownTimeout(e.opts.forwardTimeout), forward.WithErrorLog(e.errorLog)}
	if e.mp != nil {
		opts = append(opts, forward.WithMeterProvider(e.mp))
	}
	if e.opts.queueSize > 0 {
		opts = append(opts, forward.WithQueueSize(e.opts.queueSize))
	}
	return forward.NewQueue(forward.ValidUTF8(forward.RetryRefused(exp, forward.DefaultRetryWindow)), opts...), nil
}
