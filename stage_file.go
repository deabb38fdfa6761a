package otelaudit

import (
	"context"
	"os"
	"path/filepath"

	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/exporter"
	"github.com/otelaudit/otelaudit/seal"
)

// fileStage writes audit.log (LOGGING_AUDIT, LOGGING_AUDIT_FOLDER and the
// durability, mode and strict keys), sealed with LOGGING_AUDIT_SEAL_KEY.
var fileStage = stage{name: "file", build: buildFile}

func buildFile(s config.Settings, e *env) (sdklog.Processor, error) {
	if !s.Enabled {
		return nil, nil
	}
	opts := []exporter.FileOption{exporter.WithLocation(s.Time.Location()), exporter.WithDurability(s.Durability),
		exporter.WithFileMode(s.FileMode), exporter.WithDirMode(s.FolderMode), exporter.WithErrorLog(e.errorLog)}
	if e.mp != nil {
		opts = append(opts, exporter.WithMeterProvider(e.mp))
	}
	if e.opts.fallbackSet {
		opts = append(opts, exporter.WithFallback(e.opts.fallback))
	}
	if s.Strict {
		opts = append(opts, exporter.WithStrictPermissions())
	}
	if !forwarding(e) {
		// Only the forwarder reads a record's position (the off-host copy
		// names each record's line with it).
		opts = append(opts, exporter.WithoutPositions())
	}
	var sealer *seal.Sealer // closed by the file's Shutdown
	if s.SealKey != "" {
		var err error
		if sealer, err = newSealer(s, e); err != nil {
			return nil, err
		}
		opts = append(opts, exporter.WithSealer(sealer))
	}
	f, err := exporter.NewFile(s.LogPath(), opts...)
	if err != nil {
		if sealer != nil {
			_ = sealer.Close()
		}
		return nil, err
	}
	return fileSink{f}, nil
}

// newSealer returns the seal.Sealer of s's audit.log (LOGGING_AUDIT_SEAL_KEY)
// for the file exporter. Each checkpoint is also emitted as an
// AUDIT_LOG_CHECKPOINT record (see checkpointEmitter): the forwarder sends
// it, the file never writes it (its lines are what the checkpoint proves),
// and the whitelist and blacklist do not apply to it (they choose the
// service's events; a whitelist that does not name AUDIT_LOG_CHECKPOINT
// would otherwise silently take the off-host copy away).
func newSealer(s config.Settings, e *env) (*seal.Sealer, error) {
	// Sealing starts before the file exporter opens audit.log (it reads the
	// file as it is): create the folder with its configured mode, before
	// the checkpoints file is created in it.
	if err := os.MkdirAll(filepath.Dir(s.LogPath()), s.FolderMode); err != nil {
		return nil, s.SealKeyError(err)
	}
	sealer, err := seal.New(s.SealKey, s.LogPath(),
		seal.WithEvery(s.SealEvery), seal.WithInterval(s.SealInterval), seal.WithErrorLog(e.errorLog),
		seal.WithOrigin(s.SealLogName), seal.WithStrictKey(s.Strict),
		seal.WithCheckpointFunc(e.checkpoints.emit))
	if err != nil {
		return nil, s.SealKeyError(err)
	}
	return sealer, nil
}

// fileSink is the file stage's processor. Writing audit.log is never skipped
// at shutdown, not even when the context is already done: an
// http.Server.Shutdown that used up a shared deadline must not cost the
// records of the requests it drained. Drain closes the file, and its sealer,
// while the provider still forwards the closing checkpoint.
type fileSink struct{ *exporter.File }

func (f fileSink) Shutdown(ctx context.Context) error {
	return f.File.Shutdown(context.WithoutCancel(ctx))
}

func (f fileSink) Drain() error { return f.File.Shutdown(context.Background()) }
