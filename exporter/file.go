// Package exporter provides the OpenTelemetry log exporter that writes audit
// records to audit.log as Psono lines.
package exporter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/internal/report"
	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/receipt"
)

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
// end and never overwrite those of another writer. A file that ends inside a
// line when File opens it (a write cut short by kill -9 or a crash) gets a
// newline before the next line, so that the fragment stays a line of its own
// and no record is glued onto it; a sealer is not given that newline (it
// counts the fragment as a line when it reads the file). Before each write File
// checks that the path still names the file it has open; when audit.log was
// deleted, moved or replaced, or a file system was mounted over it or over a
// folder on its way (or unmounted from there), it opens the path again
// (creating the file), so nothing is written into a file nobody will read. A
// failed write is retried once after reopening; a write that still fails is
// counted in the metric otelaudit.file.write_errors, reported through the
// error log (see WithErrorLog), recorded in the Receipt (package receipt) of
// the context the record was emitted with, and its line goes to the fallback
// writer (see WithFallback), which never holds up a record; Export also
// returns it.
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
	lost       *report.Reporter
	errorLog   func(error) // hands a report to errs, never waits
	sealer     Sealer      // nil unless WithSealer
	positions  bool        // records carry their line's position (not WithoutPositions)
	segs       []segment   // where the current write's lines went; the writer's
	chain      string      // the chain file, without a sealer (see ChainPath)
	fileNo     int64       // the open file's number in the chain, without a sealer
	lines      int64       // the lines of the open file, without a sealer
	fileKey    string      // the open file's identity in the chain file, without a sealer

	// The fallback writer and the error log are given what they get by
	// outlets, goroutines of their own, so that neither can block a
	// record's writer (see outlet and fallBack).
	fallback    io.Writer
	fb          *outlet[[]byte] // nil without a fallback writer
	fbDropped   atomic.Int64    // records dropped on their way to the fallback
	fbTold      atomic.Bool     // the first drop was reported
	fbTorn      bool            // the last fallback write ended inside a line; fb's goroutine's
	fbBuf       []byte          // fb's goroutine's
	errs        *outlet[error]
	errsDropped atomic.Int64 // reports the error log's queue could not take

	mu      sync.Mutex
	cond    sync.Cond // signalled when a write finishes
	f       *os.File  // owned by the writer while writing is true
	id      fileID
	h       handle // f's, to ask whether it was deleted
	watch   watch  // whether the path may name another file than f; the writer's
	opened  bool   // id is that of a file opened before
	gone    bool   // the file opened before was deleted or moved away when dropFile closed it
	closed  bool
	lastErr error
	buf     []byte // Export's buffer

	pending []byte // lines waiting for the next write
	batch   *batch // the records in pending; nil when pending is empty
	spare   []byte // the buffer of the last write, for reuse
	writing bool   // a caller is writing (and syncing) outside mu

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

var (
	_ sdklog.Exporter  = (*File)(nil)
	_ sdklog.Processor = (*File)(nil)
)

// NewFile opens (creating it and its folder when missing) the file at path
// for appending and returns a File writing to it.
func NewFile(path string, opts ...FileOption) (*File, error) {
	c := fileConfig{loc: time.UTC, fileMode: DefaultFileMode, dirMode: DefaultDirMode}
	for _, o := range opts {
		o(&c)
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	f := &File{path: path, loc: c.loc, fileMode: c.fileMode, dirMode: c.dirMode, durability: c.durability}
	if !c.noFallback && c.fallback == nil {
		c.fallback = os.Stderr
	}
	if c.errorLog == nil {
		c.errorLog = otel.Handle
	}
	f.newOutlets(c.fallback, c.errorLog)
	f.lost = report.New(f.errorLog, "audit record(s) could not be written to "+path, c.reportInterval)
	f.sealer = c.sealer
	f.positions = !c.noPositions
	if f.sealer == nil {
		f.chain = ChainPath(path)
	}
	f.cond.L = &f.mu
	if err := checkPermissions(path); err != nil {
		if c.strictPerms {
			return nil, err
		}
		f.errorLog(fmt.Errorf("otelaudit: warning: %w", err))
		f.errs.settle()
	}
	var err error
	f.errCounter, err = c.mp.Meter(ScopeName).Int64Counter("otelaudit.file.write_errors",
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

// ScopeName is the instrumentation scope of the File's metrics.
const ScopeName = "github.com/otelaudit/otelaudit/exporter"

// Path returns the path of the file.
func (f *File) Path() string { return f.path }

// open opens the path and watches it, in place of the file open before, if
// any, which it syncs and closes once the new one is open; f.mu is held, or
// the caller is the writer, or f is not shared yet. When the file is another
// than the one opened before, the sealer is told.
//
// The file open before is closed only after the new one is open, so that
// the new one cannot be given its inode (a file system reuses the inode
// number of a deleted file once its last descriptor is closed) and pass for
// it; and a file that was deleted counts as another one whatever its inode
// number (see another).
//
// When the file ends inside a line (a write cut short by kill -9 or a crash)
// it is marked torn: the next write to it begins with a newline, so that the
// fragment stays a line of its own (see endsInsideLine).
func (f *File) open() error {
	if err := os.MkdirAll(filepath.Dir(f.path), f.dirMode); err != nil {
		f.dropFile()
		return fmt.Errorf("audit log folder: %w", err)
	}
	file, err := openAppend(f.path, f.fileMode)
	if err != nil {
		f.dropFile()
		return err
	}
	fi, err := file.Stat()
	if err != nil {
		file.Close()
		f.dropFile()
		return fmt.Errorf("audit log: %w", err)
	}
	id := idOf(fi)
	gone := f.gone
	if f.f != nil {
		gone = gone || f.h.deleted()
		_ = f.closeFile()
	}
	first := !f.opened
	other := f.opened && another(f.id, gone, id)
	f.f, f.id, f.h, f.opened, f.gone = file, id, handleOf(file), true, false
	if f.sealer == nil {
		f.number(id, fi, other, first) // counts the lines, and marks a torn file
	} else if torn, known := endsInsideLine(f.path, id); known {
		f.torn, f.tornID = torn, id
	}
	f.watch.start(f.path)
	if other && f.sealer != nil {
		f.rotated()
	}
	return nil
}

// another reports whether a file just opened, with identity id, is another
// file than the one opened before, with identity prev: always when that one
// was deleted or moved away (gone), whatever the identities say, since a
// file created at the path may have been given the inode number of a
// deleted one.
func another(prev fileID, gone bool, id fileID) bool {
	return gone || !prev.same(id)
}

// dropFile closes the open file when no other could be opened in its place,
// and remembers for the next open whether it was gone: deleted, or the path
// names another file or none. f.mu is held, or the caller is the writer.
func (f *File) dropFile() {
	if f.f == nil {
		return
	}
	if f.h.deleted() {
		f.gone = true
	} else if id, err := statID(f.path); (err == nil && !id.same(f.id)) || errors.Is(err, fs.ErrNotExist) {
		f.gone = true
	}
	_ = f.closeFile()
}

// closeFile syncs and closes the open file; f.mu is held, or the caller is
// the writer.
func (f *File) closeFile() error {
	if f.f == nil {
		return nil
	}
	err := syncFile(f.f)
	if cerr := f.f.Close(); err == nil {
		err = cerr
	}
	f.f, f.h = nil, handle{}
	f.watch.stop()
	return err
}

// current makes sure f.f is open and still the file at the path; f.mu is
// held, or the caller is the writer. The path is checked (a stat) only when
// the watch says it may have changed (see watch). A file that was deleted is
// not the file at the path even when the path's file has its identity (see
// another).
func (f *File) current() error {
	if f.f != nil {
		if !f.watch.changed() {
			return nil
		}
		if id, err := statID(f.path); err == nil && id.same(f.id) && !f.h.deleted() {
			return nil
		}
		// Deleted, moved away or replaced: write to the path again.
	}
	return f.open()
}

var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// OnEmit writes r as one line with the configured durability and records the
// outcome in the Receipt of ctx, if any. With Write and Sync durability it
// adds the position of the line to r once it is written (psono.LogTree and
// psono.LogIndex; see ChainPath, and WithSealer), so that a processor after
// File (the forwarder) sees it. A record that could not be written
// is counted and reported (see File); OnEmit then returns nil all the same,
// so that the SDK does not report every lost record once more. A checkpoint
// record of the sealer (psono.IsCheckpoint) is not written.
func (f *File) OnEmit(ctx context.Context, r *sdklog.Record) error {
	if isCheckpoint(r) {
		return nil
	}
	bp := linePool.Get().(*[]byte)
	line := AppendLine((*bp)[:0], r, f.loc)
	pos, err := f.commit(line, 1)
	*bp = line
	if cap(line) <= 16<<10 {
		linePool.Put(bp)
	}
	if pos.ok && f.positions {
		addPosition(r, pos.tree, pos.index)
	}
	receipt.FromContext(ctx).Set(err)
	return nil
}

// isCheckpoint reports a checkpoint record of the sealer, which is never
// written to audit.log: its lines are what it proves (see
// psono.IsCheckpoint).
func isCheckpoint(r *sdklog.Record) bool {
	return psono.IsCheckpoint(r.EventName(), r.InstrumentationScope().Name)
}

// Export writes one line per record, all of them with as few write calls as
// the operating system allows, with the configured durability. It returns
// the error of a failed write (and counts and reports it, see File).
func (f *File) Export(ctx context.Context, records []sdklog.Record) error {
	f.mu.Lock()
	buf := f.buf[:0]
	f.buf = nil
	f.mu.Unlock()
	n := 0
	for i := range records {
		if isCheckpoint(&records[i]) {
			continue
		}
		buf = AppendLine(buf, &records[i], f.loc)
		n++
	}
	_, err := f.commit(buf, n)
	if cap(buf) <= 1<<20 {
		f.mu.Lock()
		f.buf = buf
		f.mu.Unlock()
	}
	receipt.FromContext(ctx).Set(err)
	return err
}

// report counts n failed records and reports the error, rate-limited.
func (f *File) report(err error, n int) {
	if f.errCounter != nil {
		f.errCounter.Add(context.Background(), int64(n))
	}
	f.lost.Lost(n, err)
}

// Healthy reports whether audit.log can be written right now: the error of
// the last write when it failed, an error after Shutdown, and an error when
// the file system holding audit.log has less than 1 MiB free (a statfs
// call), so that strict mode refuses a request before its handler runs
// rather than after. It cannot promise the next write: the disk may fill in
// between, and such a record goes to the fallback.
func (f *File) Healthy() error {
	f.mu.Lock()
	err, closed := f.lastErr, f.closed
	f.mu.Unlock()
	if closed {
		return errShutdown
	}
	if err != nil {
		return err
	}
	return checkSpace(f.path)
}

var errShutdown = errors.New("audit log: shut down")

// Enabled reports true: File writes every record it is given.
func (f *File) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }

// Reopen writes what is pending, opens the path again, creating the file
// when it is missing, and syncs and closes the file it wrote to. Call it
// after the file was rotated (moved away by logrotate), for example on
// SIGHUP.
func (f *File) Reopen() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.idle()
	if f.closed {
		return errors.New("audit log: reopen after shutdown")
	}
	_ = f.flushLocked()
	f.idle()
	return f.open()
}

// ForceFlush writes what is pending and commits the file's contents to
// stable storage (fsync). It waits until then or until ctx is done, whichever
// comes first; the writing goes on either way.
func (f *File) ForceFlush(ctx context.Context) error {
	return wait(ctx, f.path, f.forceFlush)
}

func (f *File) forceFlush() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.idle()
	if f.closed {
		return nil
	}
	if err := f.flushLocked(); err != nil {
		f.mu.Unlock()
		f.settle()
		f.mu.Lock()
		return fmt.Errorf("audit log %s: %w", f.path, err)
	}
	f.idle()
	if f.f == nil {
		return nil
	}
	if err := syncFile(f.f); err != nil {
		return fmt.Errorf("audit log %s: sync: %w", f.path, err)
	}
	return nil
}

// Shutdown writes what is pending, syncs and closes the file, and reports
// the records lost since the last report. It gives the fallback writer and
// then the error log up to a second each to take what is queued, and reports
// how many records did not reach the fallback writer either (see
// FallbackDropped). Later records fail. It waits until then or until ctx is
// done, whichever comes first: an expired ctx never keeps what is pending
// from being written.
func (f *File) Shutdown(ctx context.Context) error {
	return wait(ctx, f.path, f.shutdown)
}

func (f *File) shutdown() error {
	if f.stopFlush != nil {
		f.stopping.Do(func() { close(f.stopFlush) })
		<-f.flushDone
	}
	f.mu.Lock()
	f.idle()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	err := f.shutdownLocked()
	f.mu.Unlock()
	f.drainOutlets()
	return err
}

// shutdownLocked closes f; f.mu is held and no write is in progress.
func (f *File) shutdownLocked() error {
	f.closed = true // no record joins pending from here on
	err := f.flushLocked()
	f.idle()
	f.recordClose()
	if cerr := f.closeFile(); err == nil {
		err = cerr
	}
	if f.sealer != nil {
		if serr := f.sealer.Close(); serr != nil {
			f.errorLog(serr)
			if err == nil {
				err = serr
			}
		}
	}
	f.lost.Flush()
	if err != nil {
		return fmt.Errorf("audit log %s: close: %w", f.path, err)
	}
	return nil
}

// wait runs fn and returns its error, or ctx's error when ctx is done first;
// fn runs to its end either way.
func wait(ctx context.Context, path string, fn func() error) error {
	if ctx.Err() == nil && ctx.Done() == nil {
		return fn()
	}
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("audit log %s: still writing what is pending: %w", path, ctx.Err())
	}
}
