package exporter

import (
	"fmt"
	"runtime"
	"time"
)

// batch is the outcome of one write shared by the records it carried.
type batch struct {
	n    int // records
	done bool
	err  error
	segs []segment // where the written lines went
	seg0 [1]segment
}

// position is where a record's line went: the file's number in the chain
// (the sealer's tree with a sealer) and the line's index in it.
type position struct {
	tree, index int64
	ok          bool
}

// maxPending bounds the lines Buffered mode holds in memory: a caller that
// finds this much waiting behind a write in progress waits for it.
const maxPending = 16 * bufferedFlushSize

// commit writes lines (n records) with the configured durability: with
// Write and Sync it returns once they are written (and synced), with
// Buffered once they are queued. With a durability that waits for the
// write, pos is where the first line went.
func (f *File) commit(lines []byte, n int) (pos position, err error) {
	f.mu.Lock()
	for f.durability == Buffered && f.writing && len(f.pending) >= maxPending {
		f.cond.Wait() // the disk is behind: hold the caller, not the memory
	}
	if f.closed {
		f.mu.Unlock()
		// Not written, but not gone either: to the fallback, counted.
		f.fallBack(lines, errShutdown)
		f.report(errShutdown, n)
		f.lost.Flush() // no later report would come
		f.settle()
		return pos, fmt.Errorf("audit log %s: %d record(s) not written: write after shutdown", f.path, n)
	}
	f.pending = append(f.pending, lines...)
	if f.batch == nil {
		f.batch = new(batch)
	}
	b := f.batch
	k := b.n // the batch's line of lines' first
	b.n += n
	if f.durability == Buffered {
		if len(f.pending) >= bufferedFlushSize && !f.writing {
			if err = f.flushLocked(); err != nil {
				err = fmt.Errorf("audit log %s: %d buffered record(s) not written: %w", f.path, b.n, err)
			}
		}
		f.mu.Unlock()
		if err != nil {
			f.settle()
		}
		return pos, err
	}
	for !b.done {
		if f.writing {
			f.cond.Wait()
			continue
		}
		// No write is in progress, so b is f.batch: write it with every
		// line that joined it. With Sync, whose commit waits for the disk,
		// first let the goroutines that are ready to run have their turn (a
		// write in progress to them, so they queue their lines and share
		// the fsync): on few CPUs, concurrent requests seldom reach this
		// point at the same moment otherwise. With Write the yield is not
		// worth it: it wakes an idle CPU's thread (a futex call, about 5 µs
		// for a lone request), more than the write(2) it might save, and
		// on the loaded demo a write carried one line either way.
		if f.durability == Sync {
			f.writing = true
			f.mu.Unlock()
			runtime.Gosched()
			f.mu.Lock()
			f.writing = false
		}
		f.flushLocked()
	}
	err = b.err
	pos.tree, pos.index, pos.ok = b.position(k)
	f.mu.Unlock()
	if err != nil {
		// Its line is in the fallback when the caller returns (unless the
		// fallback writer is blocked), and the failure reported.
		f.settle()
		return pos, fmt.Errorf("audit log %s: %d record(s) not written: %w", f.path, n, err)
	}
	return pos, nil
}

// flushLocked writes (and with Sync, syncs) the pending lines as the writer:
// f.mu is held on entry and on return, released during the write so that
// other callers can queue the next batch. No other write may be in progress.
// It returns the write's error, which it has also reported. Lines that could
// not be written are handed to the fallback writer's outlet, which never
// waits (see fallBack): neither f.mu nor the writer's role is ever held while
// the fallback writer or the error log runs.
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
	f.segs = f.segs[:0]
	f.mu.Unlock()
	written, err := f.write(lines, f.durability == Sync)
	lost := 0
	if err != nil {
		lost = f.fallBack(lines[written:], err)
		if lost == 0 {
			lost = b.n // all written, but the sync failed
		}
	}
	f.mu.Lock()
	f.writing = false
	b.done, b.err = true, err
	if len(f.segs) > 0 {
		b.segs = append(b.seg0[:0], f.segs...)
	}
	f.lastErr = err
	if err != nil {
		f.report(err, lost)
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
