package otelaudit

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/seal"
)

// checkpointLogger names the component of the AUDIT_LOG_CHECKPOINT records
// (their psono.Logger).
const checkpointLogger = "otelaudit.seal"

// newSealer returns the seal.Sealer of s's audit.log (LOGGING_AUDIT_SEAL_KEY)
// for the file exporter. With a forwarder (queue not nil), each checkpoint is
// also emitted as an AUDIT_LOG_CHECKPOINT record to the forwarder alone: it
// is never written to audit.log (its lines are what the checkpoint proves),
// and the whitelist and blacklist do not apply to it (they choose the
// service's events; a whitelist that does not name AUDIT_LOG_CHECKPOINT
// would otherwise silently take the off-host copy away).
func newSealer(s config.Settings, res *resource.Resource, host string, queue sdklog.Processor, errorLog func(error)) (*seal.Sealer, error) {
	if errorLog == nil {
		errorLog = otel.Handle
	}
	// Sealing starts before the file exporter opens audit.log: create the
	// folder with its configured mode, before the checkpoints file is
	// created in it.
	if err := os.MkdirAll(filepath.Dir(s.LogPath()), s.FolderMode); err != nil {
		return nil, s.SealKeyError(err)
	}
	opts := []seal.Option{seal.WithEvery(s.SealEvery), seal.WithInterval(s.SealInterval), seal.WithErrorLog(errorLog),
		seal.WithOrigin(s.SealLogName), seal.WithStrictKey(s.Strict)}
	if queue != nil {
		opts = append(opts, seal.WithCheckpointFunc(checkpointEmitter(res, host, queue)))
	}
	sealer, err := seal.New(s.SealKey, s.LogPath(), opts...)
	if err != nil {
		return nil, s.SealKeyError(err)
	}
	return sealer, nil
}

// checkpointEmitter returns a function that emits a checkpoint as an
// AUDIT_LOG_CHECKPOINT record to queue only, through a LoggerProvider of its
// own that gives it the pipeline's resource. The SDK's attribute limits are
// off there too (noSDKLimits): a note cut or dropped by them would no longer
// verify, and the off-host copy would be lost.
func checkpointEmitter(res *resource.Resource, host string, queue sdklog.Processor) func(seal.Checkpoint) {
	lp := sdklog.NewLoggerProvider(append(noSDKLimits(), sdklog.WithResource(res), sdklog.WithProcessor(emitOnly{queue}))...)
	logger := lp.Logger(psono.CheckpointScope)
	return func(cp seal.Checkpoint) {
		var r log.Record
		r.SetTimestamp(cp.Time)
		r.SetObservedTimestamp(time.Now())
		r.SetSeverity(log.SeverityInfo)
		r.SetSeverityText("INFO")
		r.SetEventName(psono.CheckpointEvent)
		r.AddAttributes(
			attribute.String(string(psono.Logger.Attr), checkpointLogger),
			attribute.Bool(string(psono.Success.Attr), true),
			attribute.String(string(psono.Hostname.Attr), host),
			psono.LogTree.Int64(cp.Tree),
			psono.LogSize.Int64(cp.Size),
			psono.LogFile.String(cp.File),
			psono.LogCheckpoint.String(string(cp.Entry())),
		)
		logger.Emit(context.Background(), r)
	}
}

// emitOnly hands records to a processor that the pipeline shuts down and
// flushes itself.
type emitOnly struct{ sdklog.Processor }

func (emitOnly) Shutdown(context.Context) error   { return nil }
func (emitOnly) ForceFlush(context.Context) error { return nil }

// queueOrNil returns the forwarder as a processor, nil when there is none.
func (a *Auditor) queueOrNil() sdklog.Processor {
	if a.queue == nil {
		return nil
	}
	return a.queue
}

// shutdownQueue stops the forwarder of a pipeline New gives up on.
func (a *Auditor) shutdownQueue() {
	if a.queue != nil {
		_ = a.queue.Shutdown(context.Background())
	}
}
