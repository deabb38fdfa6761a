package exporter

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// FallbackMark starts every line the fallback writer gets: a record that
// could not be written to audit.log, whole, after the mark and the path of
// the audit log it belongs to:
//
//	OTELAUDIT-UNWRITTEN /var/log/psono/audit.log: 2026-11-29T16:49:19.000001 logger=...
const FallbackMark = "OTELAUDIT-UNWRITTEN "

// fallbackQueueMax bounds the marked lines of a File waiting for the
// fallback writer (about a thousand records): lines beyond it are dropped,
// and counted.
const fallbackQueueMax = 256 << 10

// errorQueueMax bounds the reports of a File waiting for the error log.
const errorQueueMax = 64

// fallbackMu serialises fallback writes of every File, so that lines of two
// Files sharing standard error never interleave. Only the outlets'
// goroutines take it.
var fallbackMu sync.Mutex

// newOutlets sets up the goroutines that hand lines to the fallback writer
// and reports to the error log (handle), so that neither can block a
// record's writer (see outlet).
func (f *File) newOutlets(fallback io.Writer, handle func(error)) {
	f.errs = newOutlet(func(errs []error) {
		for _, err := range errs {
			handle(err)
		}
	}, func(error) int { return 1 }, errorQueueMax)
	f.errorLog = func(err error) {
		if !f.errs.put(err) {
			f.errsDropped.Add(1)
		}
	}
	if fallback != nil {
		f.fallback = fallback
		f.fb = newOutlet(f.writeFallback, func(b []byte) int { return len(b) }, fallbackQueueMax)
	}
}

// fallBack hands each line of lines (whole lines, each ending in '\n') to
// the fallback writer, marked, and returns how many there were. It never
// waits: lines that the fallback writer's queue cannot take are dropped and
// counted (see FallbackDropped). It runs as the writer, or after Shutdown.
func (f *File) fallBack(lines []byte, cause error) int {
	n := bytes.Count(lines, []byte{'\n'})
	if n == 0 || f.fb == nil {
		return n
	}
	prefix := FallbackMark + f.path + ": "
	out := make([]byte, 0, len(lines)+n*len(prefix))
	for len(lines) > 0 {
		i := bytes.IndexByte(lines, '\n') + 1
		out = append(out, prefix...)
		out = append(out, lines[:i]...)
		lines = lines[i:]
	}
	if !f.fb.put(out) {
		f.dropFallback(n, errFallbackFull)
	}
	return n
}

var errFallbackFull = errors.New("it has not taken the records before them yet")

// dropFallback counts n records dropped on their way to the fallback
// writer, and says so the first time.
func (f *File) dropFallback(n int, cause error) {
	if n <= 0 {
		return
	}
	f.fbDropped.Add(int64(n))
	if f.fbTold.CompareAndSwap(false, true) {
		f.errorLog(fmt.Errorf("otelaudit: %d audit record(s) that could not be written to %s dropped, not written to the fallback writer either: %w; "+
			"while it stays so, later ones are dropped rather than waited for, and Shutdown reports how many in all", n, f.path, cause))
	}
}

// writeFallback writes a batch of marked lines to the fallback writer, on
// the fallback outlet's goroutine. The lines a failed write did not take
// whole are dropped; after a write that ended inside a line the next one
// starts with a newline, so that no line runs into the fragment.
func (f *File) writeFallback(batch [][]byte) {
	buf := f.fbBuf[:0]
	lead := 0
	if f.fbTorn {
		buf, lead = append(buf, '\n'), 1
	}
	for _, b := range batch {
		buf = append(buf, b...)
	}
	n, err := writeLocked(f.fallback, buf)
	if err == nil && n < len(buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		n = min(max(n, 0), len(buf))
		written := bytes.Count(buf[:n], []byte{'\n'})
		if n > 0 {
			written -= lead
			f.fbTorn = buf[n-1] != '\n'
		}
		f.dropFallback(bytes.Count(buf, []byte{'\n'})-lead-written, fmt.Errorf("the fallback writer failed: %w", err))
	} else {
		f.fbTorn = false
	}
	if cap(buf) <= 4*fallbackQueueMax {
		f.fbBuf = buf[:0]
	} else {
		f.fbBuf = nil
	}
}

// writeLocked writes b to w holding fallbackMu; a Write that panics is a
// failed write of nothing.
func writeLocked(w io.Writer, b []byte) (n int, err error) {
	fallbackMu.Lock()
	defer fallbackMu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			n, err = 0, fmt.Errorf("panic: %v", r)
		}
	}()
	return w.Write(b)
}

// FallbackDropped returns how many records that could not be written to
// audit.log did not reach the fallback writer either: it had not taken the
// ones before them (it blocks, or is slow) and its queue was full, its write
// failed, or they were still queued when Shutdown gave up waiting for it.
// Records in a write to the fallback writer that had not returned by then
// are not counted; Shutdown reports them apart.
func (f *File) FallbackDropped() int64 { return f.fbDropped.Load() }

// settle waits, up to outletPatience, until the fallback writer and the
// error log have taken what was handed to them, and not at all while either
// is stalled (see outlet.settle); f.mu is not held. A record whose write
// failed is thus in the fallback when its caller returns, unless the
// fallback writer is blocked.
func (f *File) settle() {
	if f.fb != nil {
		f.fb.settle()
	}
	f.errs.settle()
}

// drainOutlets gives the fallback writer up to shutdownGrace to take what
// is queued for it, counts what it did not take as dropped, and reports the
// count in all; then it gives the error log up to shutdownGrace to take the
// reports.
func (f *File) drainOutlets() {
	if f.fb != nil {
		left, inflight := f.fb.drain(time.Now().Add(shutdownGrace), func(b []byte) int { return bytes.Count(b, []byte{'\n'}) })
		f.fbDropped.Add(int64(left))
		if dropped := f.fbDropped.Load(); dropped > 0 || inflight > 0 {
			note := ""
			if inflight > 0 {
				note = fmt.Sprintf("; %d more were in a write to it that had not returned at Shutdown", inflight)
			}
			f.errorLog(fmt.Errorf("otelaudit: %d audit record(s) that could not be written to %s dropped in all, not written to the fallback writer either%s",
				dropped, f.path, note))
		}
	}
	if n := f.errsDropped.Load(); n > 0 {
		f.errorLog(fmt.Errorf("otelaudit: %d report(s) about audit log %s dropped: the error log had not taken the %d before them", n, f.path, errorQueueMax))
	}
	f.errs.drain(time.Now().Add(shutdownGrace), func(error) int { return 1 })
}
