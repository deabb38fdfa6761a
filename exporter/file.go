// Package exporter provides the OpenTelemetry log exporter that writes audit
// records to audit.log as Psono lines.
package exporter

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// Durability says when a record counts as written.
type Durability int

const (
	// Write hands every record to the operating system (one write call)
	// before OnEmit returns, that is before the request's response is
	// finished. A crash of the service loses nothing; a crash of the
	// machine or a power loss can lose what the kernel had not yet put on
	// disk (typically the last few seconds). This is the default.
	Write Durability = iota
	// Sync also fsyncs before OnEmit returns. Concurrent records share one
	// fsync (group commit). Nothing acknowledged is lost even on power loss;
	// each request waits for the disk.
	Sync
	// Buffered collects lines in memory and writes them when 64 KiB are
	// pending or every 100ms. It is the fastest; a crash of the service can
	// lose the last 100ms of records, and OnEmit cannot report a failed
	// write to the request (strict mode cannot be used with it).
	Buffered
)

// ParseDurability returns the Durability named "write", "fsync" or
// "buffered".
func ParseDurability(s string) (Durability, error) {
	switch s {
	case "write":
		return Write, nil
	case "fsync":
		return Sync, nil
	case "buffered":
		return Buffered, nil
	}
	return 0, fmt.Errorf("unknown durability %q; want write, fsync or buffered", s)
}

func (d Durability) String() string {
	switch d {
	case Write:
		return "write"
	case Sync:
		return "fsync"
	case Buffered:
		return "buffered"
	}
	return fmt.Sprintf("Durability(%d)", int(d))
}

const (
	bufferedFlushSize     = 64 << 10
	bufferedFlushInterval = 100 * time.Millisecond
)

// File writes each audit record to a file as exactly one Psono line (see
// AppendLine). It is both a synchronous sdklog.Processor — register it
// directly with sdklog.WithProcessor (preferably behind a
// processor.EventFilter); that is the fast path, with no copy of the record —
// and an sdklog.Exporter for use behind sdklog.NewSimpleProcessor. Never put
// it behind the SDK's BatchProcessor, which drops records when its queue is
// full.
//
// The file is opened with O_APPEND, so lines are written whole at the file's
// end and never overwrite those of another writer. Before each write File
// checks that the path still names the file it has open; when audit.log was
// deleted, moved or replaced it opens the path again (creating the file), so
// nothing is written into a file nobody will read. A failed write is retried
// once after reopening; a write that still fails is counted in the metric
// otelaudit.file.write_errors, reported by a rate-limited error through
// otel.Handle, returned to the caller and recorded in the request's Receipt.
type File struct {
	path       string
	loc        *time.Location
	fileMode   os.FileMode
	dirMode    os.FileMode
	durability Durability
	errCounter metric.Int64Counter
	errorLog   func(error)

	mu      sync.Mutex
	cond    sync.Cond // signalled when synced or syncing change
	f       *os.File
	ino     fileID
	closed  bool
	lastErr error
	pending []byte // Buffered mode
	buf     []byte // Export's buffer

	seq          uint64 // lines written (Sync mode bookkeeping)
	synced       uint64
	syncFailedTo uint64
	syncErr      error
	syncing      bool

	lastReport time.Time
	unreported int

	stopFlush chan struct{}
	flushDone chan struct{}
}

var (
	_ sdklog.Exporter  = (*File)(nil)
	_ sdklog.Processor = (*File)(nil)
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
}

// WithLocation sets the zone line times are written in: time.UTC (the
// default, Psono's time_utc) or time.Local (time_server).
func WithLocation(loc *time.Location) FileOption {
	return func(c *fileConfig) { c.loc = loc }
}

// WithFileMode sets the permissions audit.log is created with; the default is
// 0600. An existing file keeps its mode.
func WithFileMode(mode os.FileMode) FileOption {
	return func(c *fileConfig) { c.fileMode = mode }
}

// WithDirMode sets the permissions a missing folder is created with; the
// default is 0700. Existing folders keep their mode.
func WithDirMode(mode os.FileMode) FileOption {
	return func(c *fileConfig) { c.dirMode = mode }
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

// WithErrorLog sets where write errors are reported, at most once every 10
// seconds with a count of those in between; the default is otel.Handle.
func WithErrorLog(f func(error)) FileOption {
	return func(c *fileConfig) { c.errorLog = f }
}

// NewFile opens (creating it and its folder when missing) the file at path
// for appending and returns a File writing to it.
func NewFile(path string, opts ...FileOption) (*File, error) {
	c := fileConfig{loc: time.UTC, fileMode: 0o600, dirMode: 0o700}
	for _, o := range opts {
		o(&c)
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	if c.errorLog == nil {
		c.errorLog = otel.Handle
	}
	f := &File{path: path, loc: c.loc, fileMode: c.fileMode, dirMode: c.dirMode, durability: c.durability, errorLog: c.errorLog}
	f.cond.L = &f.mu
	var err error
	f.errCounter, err = c.mp.Meter("github.com/otelaudit/otelaudit/exporter").Int64Counter("otelaudit.file.write_errors",
		metric.WithUnit("{record}"), metric.WithDescription("Audit records that could not be written to audit.log."))
	if err != nil {
		otel.Handle(err)
	}
	if err := f.open(); err != nil {
		return nil, err
	}
	if f.durability == Buffered {
		f.stopFlush, f.flushDone = make(chan struct{}), make(chan struct{})
		go f.flushLoop()
	}
	return f, nil
}

// Path returns the path of the file.
func (f *File) Path() string { return f.path }

// fileID identifies a file across renames.
type fileID struct{ dev, ino uint64 }

func idOf(fi os.FileInfo) fileID {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fileID{uint64(st.Dev), uint64(st.Ino)}
	}
	return fileID{}
}

// open opens the path; f.mu is held or f is not shared yet.
func (f *File) open() error {
	if err := os.MkdirAll(filepath.Dir(f.path), f.dirMode); err != nil {
		return fmt.Errorf("audit log folder: %w", err)
	}
	file, err := os.OpenFile(f.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, f.fileMode)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	fi, err := file.Stat()
	if err != nil {
		file.Close()
		return fmt.Errorf("audit log: %w", err)
	}
	f.f, f.ino = file, idOf(fi)
	return nil
}

// closeFile syncs and closes the open file; f.mu is held. Everything written
// to it counts as synced.
func (f *File) closeFile() error {
	if f.f == nil {
		return nil
	}
	err := f.f.Sync()
	if errors.Is(err, syscall.EINVAL) {
		err = nil // a device such as /dev/full cannot be synced
	}
	if cerr := f.f.Close(); err == nil {
		err = cerr
	}
	f.f = nil
	if err == nil {
		f.synced = f.seq
		f.cond.Broadcast()
	}
	return err
}

// current makes sure f.f is open and still the file at the path; f.mu is
// held.
func (f *File) current() error {
	if f.f != nil {
		fi, err := os.Stat(f.path)
		if err == nil && idOf(fi) == f.ino {
			return nil
		}
		// Deleted, moved away or replaced: write to the path again.
		_ = f.closeFile()
	}
	return f.open()
}

// write writes b whole at the end of the file; f.mu is held. After a failure
// it reopens the file and tries once more.
func (f *File) write(b []byte) error {
	if f.closed {
		return errors.New("audit log: write after shutdown")
	}
	var err error
	for attempt := 0; attempt < 2 && len(b) > 0; attempt++ {
		if attempt > 0 {
			_ = f.closeFile()
		}
		if err = f.current(); err != nil {
			continue
		}
		for len(b) > 0 {
			var n int
			n, err = f.f.Write(b)
			b = b[n:]
			if err != nil {
				break
			}
		}
	}
	if err == nil {
		f.seq++
	}
	f.lastErr = err
	return err
}

var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// OnEmit writes r as one line with the configured durability and records the
// outcome in the Receipt of ctx, if any.
func (f *File) OnEmit(ctx context.Context, r *sdklog.Record) error {
	bp := linePool.Get().(*[]byte)
	line := AppendLine((*bp)[:0], r, f.loc)
	err := f.commit(line, 1)
	*bp = line
	if cap(line) <= 16<<10 {
		linePool.Put(bp)
	}
	if rc := receiptFrom(ctx); rc != nil {
		rc.set(err)
	}
	return err
}

// Export writes one line per record, all of them with as few write calls as
// the operating system allows, with the configured durability.
func (f *File) Export(ctx context.Context, records []sdklog.Record) error {
	f.mu.Lock()
	buf := f.buf[:0]
	f.buf = nil
	f.mu.Unlock()
	for i := range records {
		buf = AppendLine(buf, &records[i], f.loc)
	}
	err := f.commit(buf, len(records))
	if cap(buf) <= 1<<20 {
		f.mu.Lock()
		f.buf = buf
		f.mu.Unlock()
	}
	if rc := receiptFrom(ctx); rc != nil {
		rc.set(err)
	}
	return err
}

// commit writes lines (n records) with the configured durability.
func (f *File) commit(lines []byte, n int) error {
	f.mu.Lock()
	var err error
	switch f.durability {
	case Buffered:
		if f.closed {
			err = errors.New("audit log: write after shutdown")
			break
		}
		f.pending = append(f.pending, lines...)
		if len(f.pending) >= bufferedFlushSize {
			err = f.flushPending()
		}
	case Sync:
		if err = f.write(lines); err == nil {
			err = f.syncTo(f.seq)
		}
	default:
		err = f.write(lines)
	}
	if err != nil {
		f.report(err, n)
	}
	f.mu.Unlock()
	if err != nil {
		return fmt.Errorf("audit log %s: %d record(s) not written: %w", f.path, n, err)
	}
	return nil
}

// syncTo waits until the write numbered s is on stable storage, running the
// fsync itself when no other caller is (group commit); f.mu is held.
func (f *File) syncTo(s uint64) error {
	for f.synced < s {
		if f.syncFailedTo >= s {
			return f.syncErr
		}
		if f.syncing {
			f.cond.Wait()
			continue
		}
		f.syncing = true
		target, file := f.seq, f.f
		f.mu.Unlock()
		err := file.Sync()
		f.mu.Lock()
		f.syncing = false
		if err == nil {
			f.synced = max(f.synced, target)
		} else if f.synced < target {
			f.syncFailedTo, f.syncErr = target, err
		}
		f.cond.Broadcast()
	}
	return nil
}

// flushPending writes the Buffered mode's pending lines; f.mu is held.
func (f *File) flushPending() error {
	if len(f.pending) == 0 {
		return nil
	}
	err := f.write(f.pending)
	f.pending = f.pending[:0]
	if cap(f.pending) > 4*bufferedFlushSize {
		f.pending = nil
	}
	return err
}

func (f *File) flushLoop() {
	defer close(f.flushDone)
	t := time.NewTicker(bufferedFlushInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			f.mu.Lock()
			n := countLines(f.pending)
			if err := f.flushPending(); err != nil {
				f.report(err, n)
			}
			f.mu.Unlock()
		case <-f.stopFlush:
			return
		}
	}
}

func countLines(b []byte) int {
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}

// report counts n failed records and reports the error, rate-limited; f.mu
// is held.
func (f *File) report(err error, n int) {
	if f.errCounter != nil {
		f.errCounter.Add(context.Background(), int64(n))
	}
	f.unreported += n
	if now := time.Now(); now.Sub(f.lastReport) >= 10*time.Second {
		f.lastReport = now
		f.errorLog(fmt.Errorf("otelaudit: %d audit record(s) could not be written to %s: %w", f.unreported, f.path, err))
		f.unreported = 0
	}
}

// Healthy returns the error of the last write, or nil when it succeeded. It
// tells strict mode whether audit.log can be written right now.
func (f *File) Healthy() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastErr
}

// Enabled reports true: File writes every record it is given.
func (f *File) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }

// Reopen writes what is pending, syncs and closes the file and opens the path
// again, creating the file when it is missing. Call it after the file was
// rotated (logrotate's create mode), for example on SIGHUP.
func (f *File) Reopen() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return errors.New("audit log: reopen after shutdown")
	}
	if err := f.flushPending(); err != nil {
		f.report(err, 0)
	}
	_ = f.closeFile()
	return f.open()
}

// ForceFlush writes what is pending and commits the file's contents to
// stable storage (fsync).
func (f *File) ForceFlush(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || f.f == nil {
		return nil
	}
	if err := f.flushPending(); err != nil {
		return fmt.Errorf("audit log %s: %w", f.path, err)
	}
	if err := f.f.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("audit log %s: sync: %w", f.path, err)
	}
	f.synced = f.seq
	return nil
}

// Shutdown writes what is pending, syncs and closes the file. Later records
// fail.
func (f *File) Shutdown(context.Context) error {
	if f.stopFlush != nil {
		f.mu.Lock()
		stop := !f.closed
		f.mu.Unlock()
		if stop {
			close(f.stopFlush)
			<-f.flushDone
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	err := f.flushPending()
	f.closed = true
	if cerr := f.closeFile(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("audit log %s: close: %w", f.path, err)
	}
	return nil
}
