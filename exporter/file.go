// Package exporter provides the OpenTelemetry log exporter that writes audit
// records to audit.log as Psono lines.
package exporter

import (
	"bytes"
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

// String returns the setting's value for d: "write", "fsync" or "buffered".
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
//
// Records emitted concurrently share their write (and, with Sync, their
// fsync): the first caller to find no write in progress writes every line
// that is waiting, in one write call, while the next callers collect their
// lines for the following one (group commit). Each caller still returns only
// once its own line has been written (and synced), with that write's outcome.
type File struct {
	path       string
	loc        *time.Location
	fileMode   os.FileMode
	dirMode    os.FileMode
	durability Durability
	errCounter metric.Int64Counter
	errorLog   func(error)

	mu      sync.Mutex
	cond    sync.Cond // signalled when a write finishes
	f       *os.File  // owned by the writer while writing is true
	ino     fileID
	closed  bool
	lastErr error
	buf     []byte // Export's buffer

	pending []byte // lines waiting for the next write
	batch   *batch // the records in pending; nil when pending is empty
	spare   []byte // the buffer of the last write, for reuse
	writing bool   // a caller is writing (and syncing) outside mu

	lastReport time.Time
	unreported int

	stopFlush chan struct{}
	stopping  sync.Once // closes stopFlush
	flushDone chan struct{}

	// torn is set while the file with identity tornID ends inside a line: a
	// failed write left part of a line that could not be cut off again. The
	// next write to that file starts with a newline, so the fragment stays a
	// line of its own and never runs into a whole one.
	torn   bool
	tornID fileID
}

// batch is the outcome of one write shared by the records it carried.
type batch struct {
	n    int // records
	done bool
	err  error
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

// statID returns the identity of the file at path without allocating (it is
// asked before every write).
func statID(path string) (fileID, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return fileID{}, err
	}
	return fileID{uint64(st.Dev), uint64(st.Ino)}, nil
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

// closeFile syncs and closes the open file; f.mu is held, or the caller is
// the writer.
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
	return err
}

// current makes sure f.f is open and still the file at the path; f.mu is
// held, or the caller is the writer.
func (f *File) current() error {
	if f.f != nil {
		if id, err := statID(f.path); err == nil && id == f.ino {
			return nil
		}
		// Deleted, moved away or replaced: write to the path again.
		_ = f.closeFile()
	}
	return f.open()
}

// write writes b whole at the end of the file, and syncs it when sync is
// set. After a failure it reopens the file and tries once more. f.mu is
// held, or the caller is the writer.
//
// b holds whole lines. A write that fails part way through a line (a disk
// that fills up, a file size limit) would leave the start of that line at
// the end of the file, and the next write would run into it; so the part is
// cut off again (ftruncate), and the retry starts with that line. When the
// cut fails too, the file is marked torn and its next write begins with a
// newline.
func (f *File) write(b []byte, sync bool) error {
	var err error
	off := 0 // b[:off] is written
	for attempt := 0; attempt < 2 && off < len(b); attempt++ {
		if attempt > 0 {
			_ = f.closeFile()
		}
		if err = f.current(); err != nil {
			continue
		}
		if f.torn && f.tornID == f.ino {
			if _, err = f.f.Write([]byte{'\n'}); err != nil {
				continue
			}
			f.torn = false
		}
		for off < len(b) {
			var n int
			n, err = f.f.Write(b[off:])
			off += n
			if err != nil {
				break
			}
		}
		if err != nil {
			start := bytes.LastIndexByte(b[:off], '\n') + 1
			f.cutPartial(int64(off - start))
			off = start
		}
	}
	if err == nil && sync {
		if err = f.f.Sync(); errors.Is(err, syscall.EINVAL) {
			err = nil // a device such as /dev/full cannot be synced
		}
	}
	return err
}

// cutPartial removes the last n bytes of the open file, the start of a line
// whose write failed, or marks the file torn when it cannot.
func (f *File) cutPartial(n int64) {
	if n <= 0 {
		return
	}
	if fi, err := f.f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() >= n {
		if f.f.Truncate(fi.Size()-n) == nil {
			return
		}
	}
	f.torn, f.tornID = true, f.ino
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

// maxPending bounds the lines Buffered mode holds in memory: a caller that
// finds this much waiting behind a write in progress waits for it.
const maxPending = 16 * bufferedFlushSize

// commit writes lines (n records) with the configured durability: with
// Write and Sync it returns once they are written (and synced), with
// Buffered once they are queued.
func (f *File) commit(lines []byte, n int) error {
	f.mu.Lock()
	for f.durability == Buffered && f.writing && len(f.pending) >= maxPending {
		f.cond.Wait() // the disk is behind: hold the caller, not the memory
	}
	if f.closed {
		f.mu.Unlock()
		return fmt.Errorf("audit log %s: %d record(s) not written: write after shutdown", f.path, n)
	}
	f.pending = append(f.pending, lines...)
	if f.batch == nil {
		f.batch = new(batch)
	}
	b := f.batch
	b.n += n
	var err error
	if f.durability == Buffered {
		if len(f.pending) >= bufferedFlushSize && !f.writing {
			if err = f.flushLocked(); err != nil {
				err = fmt.Errorf("audit log %s: %d buffered record(s) not written: %w", f.path, b.n, err)
			}
		}
		f.mu.Unlock()
		return err
	}
	for !b.done {
		if f.writing {
			f.cond.Wait()
			continue
		}
		// No write is in progress, so b is f.batch: write it with every
		// line that joined it.
		f.flushLocked()
	}
	err = b.err
	f.mu.Unlock()
	if err != nil {
		return fmt.Errorf("audit log %s: %d record(s) not written: %w", f.path, n, err)
	}
	return nil
}

// flushLocked writes (and with Sync, syncs) the pending lines as the writer:
// f.mu is held on entry and on return, released during the write so that
// other callers can queue the next batch. No other write may be in progress.
// It returns the write's error, which it has also reported.
func (f *File) flushLocked() error {
	if len(f.pending) == 0 {
		return nil
	}
	b, lines := f.batch, f.pending
	f.batch, f.pending, f.spare = nil, f.spare[:0], nil
	if f.pending == nil && f.durability == Buffered {
		f.pending = make([]byte, 0, 2*bufferedFlushSize)
	}
	f.writing = true
	f.mu.Unlock()
	err := f.write(lines, f.durability == Sync)
	f.mu.Lock()
	f.writing = false
	b.done, b.err = true, err
	f.lastErr = err
	if err != nil {
		f.report(err, b.n)
	}
	if cap(lines) <= 4*bufferedFlushSize {
		f.spare = lines[:0]
	}
	f.cond.Broadcast()
	return err
}

// idle waits until no write is in progress; f.mu is held. While the caller
// holds f.mu afterwards no write starts, so it may use the file itself.
func (f *File) idle() {
	for f.writing {
		f.cond.Wait()
	}
}

func (f *File) flushLoop() {
	defer close(f.flushDone)
	t := time.NewTicker(bufferedFlushInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			f.mu.Lock()
			f.idle()
			if !f.closed {
				_ = f.flushLocked()
			}
			f.mu.Unlock()
		case <-f.stopFlush:
			return
		}
	}
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
	f.idle()
	if f.closed {
		return errors.New("audit log: reopen after shutdown")
	}
	_ = f.flushLocked()
	f.idle()
	_ = f.closeFile()
	return f.open()
}

// ForceFlush writes what is pending and commits the file's contents to
// stable storage (fsync).
func (f *File) ForceFlush(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.idle()
	if f.closed {
		return nil
	}
	if err := f.flushLocked(); err != nil {
		return fmt.Errorf("audit log %s: %w", f.path, err)
	}
	f.idle()
	if f.f == nil {
		return nil
	}
	if err := f.f.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("audit log %s: sync: %w", f.path, err)
	}
	return nil
}

// Shutdown writes what is pending, syncs and closes the file. Later records
// fail.
func (f *File) Shutdown(context.Context) error {
	if f.stopFlush != nil {
		f.stopping.Do(func() { close(f.stopFlush) })
		<-f.flushDone
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.idle()
	if f.closed {
		return nil
	}
	f.closed = true // no record joins pending from here on
	err := f.flushLocked()
	f.idle()
	if cerr := f.closeFile(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("audit log %s: close: %w", f.path, err)
	}
	return nil
}
