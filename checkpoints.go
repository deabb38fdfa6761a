package otelaudit

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel/log"

	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/seal"
)

// checkpointLogger names the component of the AUDIT_LOG_CHECKPOINT records
// (their psono.Logger).
const checkpointLogger = "otelaudit.seal"

// checkpointEmitter emits the sealer's checkpoints as AUDIT_LOG_CHECKPOINT
// records through the Auditor's one LoggerProvider, in the scope
// psono.CheckpointScope: the event filter lets them through whatever the
// whitelist and blacklist say, the file sink skips them, the forwarder sends
// them (and never drops one for room). The provider's SDK attribute limits
// are off (noSDKLimits): a note cut or dropped by them would no longer
// verify, and the off-host copy would be lost.
//
// The sealer signs its first checkpoint while the pipeline is being built,
// before the provider exists: checkpoints wait until attach.
type checkpointEmitter struct {
	host    string
	mu      sync.Mutex
	logger  log.Logger
	pending []seal.Checkpoint
}

// emit emits cp, or keeps it until attach.
func (c *checkpointEmitter) emit(cp seal.Checkpoint) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.logger == nil {
		c.pending = append(c.pending, cp)
		return
	}
	c.emitLocked(cp)
}

// attach sets the logger and emits what waited for it.
func (c *checkpointEmitter) attach(l log.Logger) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.logger = l
	for _, cp := range c.pending {
		c.emitLocked(cp)
	}
	c.pending = nil
}

func (c *checkpointEmitter) emitLocked(cp seal.Checkpoint) {
	var r log.Record
	r.SetTimestamp(cp.Time)
	r.SetObservedTimestamp(time.Now())
	r.SetSeverity(log.SeverityInfo)
	r.SetSeverityText("INFO")
	r.SetEventName(psono.CheckpointEvent)
	r.AddAttributes(
		psono.Logger.String(checkpointLogger),
		psono.Success.Bool(true),
		psono.Hostname.String(c.host),
		psono.LogTree.Int64(cp.Tree),
		psono.LogSize.Int64(cp.Size),
		psono.LogFile.String(cp.File),
		psono.LogCheckpoint.String(string(cp.Entry())),
	)
	c.logger.Emit(context.Background(), r)
}
