package otelaudit

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/forward"
	"github.com/otelaudit/otelaudit/seal"
	"github.com/otelaudit/otelaudit/spool"
)

// SpoolFile is the name of the forwarding spool in LOGGING_AUDIT_FOLDER,
// beside audit.log; its write-ahead log is the same name with ".wal"
// added (see package spool). Neither name starts with audit.log, so that
// nothing that looks for audit.log's rotated files takes them for one.
const SpoolFile = "audit.spool"

// spoolStage sends the records over OTLP, as forwardStage does (the
// OTEL_EXPORTER_OTLP_* environment, or WithForwardExporter), through a
// spool.Spool in LOGGING_AUDIT_FOLDER: each record is on disk, with the
// durability of audit.log (LOGGING_AUDIT_DURABILITY), before its emit
// returns, and is sent until the collector takes it, across outages and
// restarts. It must come after the file stage, so that the records it
// stores carry their line's position.
var spoolStage = spoolStageWith()

// spoolStageWith returns the spool stage with further spool options (the
// budget, retry pauses, for tests).
func spoolStageWith(opts ...spool.Option) stage {
	return stage{name: "spool", build: func(s config.Settings, e *env) (sdklog.Processor, error) {
		return buildSpool(s, e, opts...)
	}}
}

func buildSpool(s config.Settings, e *env, extra ...spool.Option) (sdklog.Processor, error) {
	if !s.Enabled || s.ForwardQueue == "memory" {
		return nil, nil
	}
	exp, err := forwardExporter(s, e)
	if exp == nil || err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(s.LogPath()), s.FolderMode); err != nil {
		return nil, fmt.Errorf("otelaudit: forwarding spool: %w", err)
	}
	opts := []spool.Option{
		spool.WithMaxBytes(s.ForwardSpoolMax),
		spool.WithDurability(s.Durability),
		spool.WithOrigin(spoolOrigin(s)),
		spool.WithHostName(e.hostName),
		spool.WithFileMode(s.FileMode),
		spool.WithErrorLog(e.errorLog),
		spool.WithShutdownTimeout(e.opts.forwardTimeout),
		spool.WithOnDrop(func(d spool.Drop) { emitDrop(e, d) }),
	}
	if e.mp != nil {
		opts = append(opts, spool.WithMeterProvider(e.mp))
	}
	sp, err := spool.Open(filepath.Join(filepath.Dir(s.LogPath()), SpoolFile), forward.ValidUTF8(exp), append(opts, extra...)...)
	if err != nil {
		_ = exp.Shutdown(context.Background())
		return nil, fmt.Errorf("otelaudit: forwarding spool: %w", err)
	}
	return sp, nil
}

// spoolOrigin returns the stream name the forwarded records carry
// (spool.Origin): the sealer's log name, so that records and checkpoints
// name the same stream.
func spoolOrigin(s config.Settings) string {
	if s.SealLogName != "" {
		return s.SealLogName
	}
	return seal.DefaultLogName(s.LogPath())
}

// emitDrop writes the AUDIT_RECORDS_DROPPED record of d through the
// Auditor's provider: audit.log gets its line (and the spool stores it like
// any record), so the host's trail says that the off-host copy has a hole.
// The event filter passes it whatever the lists say (psono.IsDropRecord).
func emitDrop(e *env, d spool.Drop) {
	lp := e.provider.Load()
	if lp == nil {
		return // dropped before the pipeline was built: the spool sends its record all the same
	}
	lp.Logger(spool.Scope).Emit(context.Background(), d.Record(e.hostName))
}
