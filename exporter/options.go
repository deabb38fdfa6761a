package exporter

import (
	"io"
	"os"
	"time"

	"go.opentelemetry.io/otel/metric"
)

// The defaults of a File. Every option of this package takes its zero
// value (a mode of 0, a nil location, a duration below one) to mean its
// default, as the OpenTelemetry SDK's options do.
const (
	// DefaultFileMode is the permission audit.log is created with.
	DefaultFileMode os.FileMode = 0o600
	// DefaultDirMode is the permission a missing folder is created with.
	DefaultDirMode os.FileMode = 0o700
	// DefaultReportInterval is the least time between two reports of
	// records that could not be written.
	DefaultReportInterval = 10 * time.Second
)

// A FileOption configures a File.
type FileOption func(*fileConfig)

type fileConfig struct {
	loc        *time.Location
	fileMode   os.FileMode
	dirMode    os.FileMode
	durability Durability
	mp         metric.MeterProvider
	errorLog   func(error)

	reportInterval time.Duration
	fallback       io.Writer
	noFallback     bool
	strictPerms    bool
	sealer         Sealer
	noPositions    bool
}

// WithLocation sets the zone line times are written in: time.UTC (the
// default, Psono's time_utc; also for nil) or time.Local (time_server).
func WithLocation(loc *time.Location) FileOption {
	return func(c *fileConfig) {
		if loc == nil {
			loc = time.UTC
		}
		c.loc = loc
	}
}

// WithFileMode sets the permissions audit.log is created with; the default is
// DefaultFileMode (also for 0, which would make a file nobody can read). An
// existing file keeps its mode.
func WithFileMode(mode os.FileMode) FileOption {
	return func(c *fileConfig) { c.fileMode = cmpOr(mode, DefaultFileMode) }
}

// WithDirMode sets the permissions a missing folder is created with; the
// default is DefaultDirMode (also for 0). Existing folders keep their mode.
func WithDirMode(mode os.FileMode) FileOption {
	return func(c *fileConfig) { c.dirMode = cmpOr(mode, DefaultDirMode) }
}

// cmpOr returns v, or def when v is zero.
func cmpOr(v, def os.FileMode) os.FileMode {
	if v == 0 {
		return def
	}
	return v
}

// WithDurability sets when a record counts as written; the default is Write.
func WithDurability(d Durability) FileOption {
	return func(c *fileConfig) { c.durability = d }
}

// WithMeterProvider sets the MeterProvider of the write-error counter; the
// default is the global one.
func WithMeterProvider(mp metric.MeterProvider) FileOption {
	return func(c *fileConfig) { c.mp = mp }
}

// WithErrorLog sets where lost records are reported: the first failure at
// once, then at most one report per interval (10 seconds by default) with the
// exact count of records lost since the previous one, and at Shutdown what is
// left. The default is otel.Handle, which writes to standard error.
//
// f is called from a goroutine of the File's own, one report at a time, in
// order, so that an error log that blocks (standard error a pipe nobody
// reads) never holds up a record: a caller whose record failed waits for
// its report up to 100ms, and not at all while f has not returned from an
// earlier one for longer; beyond 64 reports waiting, reports are dropped
// (and counted at Shutdown).
func WithErrorLog(f func(error)) FileOption {
	return func(c *fileConfig) { c.errorLog = f }
}

// WithFallback sets where a record goes, whole, when it cannot be written to
// audit.log: each such line is written to w after FallbackMark and the path
// of the audit log, the way auditd falls back to syslog. The default is
// standard error, which container runtimes and journald keep. A nil w turns
// the fallback off.
//
// w is written from a goroutine of the File's own, never by a record's
// writer, so that a w that blocks (standard error a pipe nobody reads, a
// logging daemon that is behind) never holds up a request, the writes to
// audit.log once it can be written again, or Shutdown. A caller whose record
// failed waits for its line to reach w up to 100ms, and not at all while w
// has not returned from an earlier write for longer. Lines wait for w in a
// queue of 256 KiB per File; those it cannot take, or that w fails to take
// whole, are dropped and counted (File.FallbackDropped): the first drop is
// reported through the error log at once, the count in all at Shutdown,
// which waits up to a second for w to take what is queued.
func WithFallback(w io.Writer) FileOption {
	return func(c *fileConfig) { c.fallback, c.noFallback = w, w == nil }
}

// WithStrictPermissions makes NewFile refuse an audit log whose file or
// folder can be written by the group or by others (another account could
// replace or rewrite it). Without it NewFile only warns, through the error
// log.
func WithStrictPermissions() FileOption {
	return func(c *fileConfig) { c.strictPerms = true }
}

// WithReportInterval sets the least time between two reports of records
// that could not be written (below one: DefaultReportInterval).
func WithReportInterval(d time.Duration) FileOption {
	return func(c *fileConfig) {
		if d < 1 {
			d = DefaultReportInterval
		}
		c.reportInterval = d
	}
}

// WithoutPositions keeps the records File writes free of their line's
// position (psono.LogTree, psono.LogIndex), for pipelines in which nothing
// after the file reads it (no forwarder): adding the two attributes makes the
// SDK grow the record's attribute slice, about 1.5 µs per record. The lines,
// the sealer and the numbering of audit.log's files (audit.chain) are the
// same either way, so a forwarder added later numbers on from where the file
// is.
func WithoutPositions() FileOption {
	return func(c *fileConfig) { c.noPositions = true }
}
