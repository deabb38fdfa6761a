// Package report is the one diagnostics path of the pipeline: a Reporter
// counts the records one part of it lost and reports them through a single
// func(error), at most once per interval, with exact counts, and gives the
// totals not yet reported when the pipeline stops.
package report

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
)

// DefaultInterval is the least time between two reports of one Reporter.
const DefaultInterval = 10 * time.Second

// A Reporter counts lost records and reports them, rate-limited. Its methods
// are safe for concurrent use.
type Reporter struct {
	handle   func(error)
	what     string
	interval time.Duration

	mu       sync.Mutex
	last     time.Time // of the last report
	pending  int64     // lost since the last report
	total    int64     // lost in all
	lastErr  error     // the latest cause not yet reported
	reported bool      // at least one report was made
}

// New returns a Reporter that reports through handle (otel.Handle when nil)
// at most once per interval (DefaultInterval when 0). what says what was
// lost and where, for example "audit record(s) could not be written to
// /var/log/psono/audit.log"; each report reads
// "otelaudit: N <what> (T in all): <cause>".
func New(handle func(error), what string, interval time.Duration) *Reporter {
	if handle == nil {
		handle = otel.Handle
	}
	if interval <= 0 {
		interval = DefaultInterval
	}
	return &Reporter{handle: handle, what: what, interval: interval}
}

// Lost counts n lost records and their cause, and reports them together with
// the records counted since the last report when the interval has passed.
func (r *Reporter) Lost(n int, cause error) {
	if n <= 0 {
		return
	}
	r.mu.Lock()
	r.pending += int64(n)
	r.total += int64(n)
	if cause != nil {
		r.lastErr = cause
	}
	var err error
	if now := time.Now(); !r.reported || now.Sub(r.last) >= r.interval {
		r.last, r.reported = now, true
		err = r.takeLocked()
	}
	r.mu.Unlock()
	if err != nil {
		r.handle(err)
	}
}

// Flush reports the records counted since the last report, if any, at once.
// Call it when the pipeline stops, so that no count is held back.
func (r *Reporter) Flush() {
	r.mu.Lock()
	var err error
	if r.pending > 0 {
		r.last, r.reported = time.Now(), true
		err = r.takeLocked()
	}
	r.mu.Unlock()
	if err != nil {
		r.handle(err)
	}
}

// Total returns how many records were counted in all.
func (r *Reporter) Total() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total
}

// takeLocked builds the report of what is pending and resets it; r.mu is
// held.
func (r *Reporter) takeLocked() error {
	cause := r.lastErr
	if cause == nil {
		cause = errUnknown
	}
	err := fmt.Errorf("otelaudit: %d %s (%d in all): %w", r.pending, r.what, r.total, cause)
	r.pending, r.lastErr = 0, nil
	return err
}

var errUnknown = errors.New("cause not known")
