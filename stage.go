package otelaudit

import (
	"sync/atomic"

	"go.opentelemetry.io/otel/metric"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/otelaudit/otelaudit/config"
)

// A stage builds one destination of the pipeline (audit.log, the
// forwarder...) from the settings and the environment every stage shares. It
// returns nil when the settings do not ask for it. New builds the stages in
// order and fans each record out to them in that order, behind one
// processor.EventFilter; Shutdown shuts the stages down in order and stops
// the one LoggerProvider.
//
// What a stage's processor can do beyond sdklog.Processor is found by type
// assertion: reopener (Reopen, for log rotation), health (Healthy, which
// strict mode consults before serving), drainer (Drain, called by Shutdown
// before the provider stops, for a stage that still emits records while it
// closes, as the sealer's closing checkpoint) and dropCounter (Dropped, for
// ForwardDropped).
//
// A new destination is a new stage in its own file, its settings keys in
// config, and one entry in defaultStages.
type stage struct {
	name  string
	build func(s config.Settings, e *env) (sdklog.Processor, error)
}

// defaultStages are the stages of every Auditor, in fan-out order: the file
// first, so that a forwarded record carries its line's position; then the
// forwarder, the durable spool by default or the in-memory queue
// (LOGGING_AUDIT_FORWARD_QUEUE: memory), each of which builds only when
// chosen and an OTLP endpoint is configured.
func defaultStages() []stage {
	return []stage{fileStage, forwardStage, spoolStage}
}

// env is what every stage is built from besides the settings: one per
// Auditor.
type env struct {
	errorLog func(error) // never nil
	mp       metric.MeterProvider
	hostName string
	resource *resource.Resource
	opts     *options
	// checkpoints emits the sealer's checkpoints as records through the
	// Auditor's provider.
	checkpoints *checkpointEmitter
	// provider is the Auditor's LoggerProvider, set once New made it (after
	// the stages), for a stage that emits records of its own while it runs.
	provider atomic.Pointer[sdklog.LoggerProvider]
}

// The optional capabilities of a stage's processor.
type (
	reopener    interface{ Reopen() error }
	health      interface{ Healthy() error }
	dropCounter interface{ Dropped() int64 }
	drainer     interface {
		Drain() error
	}
)
