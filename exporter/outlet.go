package exporter

import (
	"sync"
	"time"
)

// outletPatience is how long a caller waits for what it handed to an outlet
// to be taken (see outlet.settle).
const outletPatience = 100 * time.Millisecond

// shutdownGrace bounds how long Shutdown waits for the fallback writer and
// the error log to take what is queued for them.
const shutdownGrace = time.Second

// An outlet hands items over to a consumer that may block for any time — the
// fallback writer (standard error: a pipe nobody reads, a terminal stopped
// with Ctrl-S, a logging daemon that is behind) and the error log (otel.Handle
// writes to standard error too) — from a goroutine of its own, so that no
// caller ever waits on the consumer itself. The goroutine is started when
// there is something to hand over and ends when nothing is left; it hands
// over what is queued in batches, in order, one batch at a time.
//
// The queue holds at most limit (by size; an item larger than that only when
// the queue is empty): put refuses what does not fit, for the caller to
// count. settle waits until what is queued has been taken, up to
// outletPatience, and not at all while the consumer is stalled (a wait for
// it timed out and it has not taken a batch since): a consumer that blocks
// costs one caller outletPatience, once, and the others nothing.
type outlet[T any] struct {
	deliver func([]T) // runs on the outlet's goroutine only
	size    func(T) int
	limit   int

	mu      sync.Mutex
	queue   []T
	queued  int           // the size of queue
	next    chan struct{} // closed once queue has been taken; nil while queue is empty
	batch   []T           // being handed over
	done    chan struct{} // closed once batch has been taken; nil while the goroutine is off
	spare   []T
	stalled bool
}

func newOutlet[T any](deliver func([]T), size func(T) int, limit int) *outlet[T] {
	return &outlet[T]{deliver: deliver, size: size, limit: limit}
}

// put queues item and reports true, or reports false, queueing nothing, when
// the queue is full. It never waits.
func (o *outlet[T]) put(item T) bool {
	s := o.size(item)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.queued > 0 && o.queued+s > o.limit {
		return false
	}
	o.queue = append(o.queue, item)
	o.queued += s
	if o.next == nil {
		o.next = make(chan struct{})
	}
	if o.done == nil {
		o.take()
		go o.run()
	}
	return true
}

// take makes the queue the batch to hand over; o.mu is held.
func (o *outlet[T]) take() {
	o.batch, o.done = o.queue, o.next
	o.queue, o.queued, o.next, o.spare = o.spare, 0, nil, nil
}

// run hands the batches over until none is left.
func (o *outlet[T]) run() {
	o.mu.Lock()
	for o.done != nil {
		batch, done := o.batch, o.done
		o.mu.Unlock()
		o.hand(batch)
		o.mu.Lock()
		clear(batch)
		o.batch, o.done, o.spare, o.stalled = nil, nil, batch[:0], false
		close(done)
		if len(o.queue) > 0 {
			o.take()
		}
	}
	o.mu.Unlock()
}

// hand delivers batch. A consumer that panics (a fallback writer or an error
// log of the application's) does not take the service down from a goroutine
// no handler protects, nor leave the outlet stuck: the batch is given up.
func (o *outlet[T]) hand(batch []T) {
	defer func() { _ = recover() }()
	o.deliver(batch)
}

// settle waits until what is queued now has been taken, or outletPatience
// has passed, and not at all while the consumer is stalled.
func (o *outlet[T]) settle() {
	o.mu.Lock()
	ch := o.next
	if ch == nil {
		ch = o.done
	}
	stalled := o.stalled
	o.mu.Unlock()
	if ch == nil || stalled {
		return
	}
	t := time.NewTimer(outletPatience)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
		o.mu.Lock()
		o.stalled = o.done != nil
		o.mu.Unlock()
	}
}

// drain waits until everything queued has been taken or the deadline has
// passed. Then it empties the queue and returns what it held and what the
// batch being handed over holds (which may yet be taken), counted by count.
func (o *outlet[T]) drain(deadline time.Time, count func(T) int) (left, inflight int) {
	for {
		o.mu.Lock()
		done := o.done
		o.mu.Unlock()
		if done == nil {
			return 0, 0
		}
		d := time.Until(deadline)
		if d <= 0 {
			break
		}
		t := time.NewTimer(d)
		select {
		case <-done:
			t.Stop()
			continue
		case <-t.C:
		}
		break
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, it := range o.queue {
		left += count(it)
	}
	if o.done != nil {
		for _, it := range o.batch {
			inflight += count(it)
		}
	}
	clear(o.queue)
	o.queue, o.queued = o.queue[:0], 0
	if o.next != nil {
		close(o.next)
		o.next = nil
	}
	return left, inflight
}
