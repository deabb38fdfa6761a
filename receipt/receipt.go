// Package receipt is the contract between code that emits an audit record and
// the synchronous sink that writes it: the emitter puts a Receipt in the
// context it emits with, the sink records the outcome in it, and the emitter
// reads it once Emit has returned.
//
// The OpenTelemetry logs API returns nothing from Logger.Emit, so this is how
// strict mode learns whether a request's record reached audit.log before it
// lets the response go. Neither side imports the other: both import this
// package.
package receipt

import (
	"context"
	"sync"
)

// A Receipt tells whoever emitted a record whether a sink wrote it. Its
// methods are safe for concurrent use.
type Receipt struct {
	mu      sync.Mutex
	written bool
	err     error
}

type key struct{}

// NewContext returns a context carrying a new Receipt, and the Receipt.
func NewContext(ctx context.Context) (context.Context, *Receipt) {
	r := new(Receipt)
	return context.WithValue(ctx, key{}, r), r
}

// FromContext returns the Receipt of ctx, or nil when ctx carries none.
func FromContext(ctx context.Context) *Receipt {
	r, _ := ctx.Value(key{}).(*Receipt)
	return r
}

// Set records the outcome of a sink's write: err is nil when the record was
// written. A failure is kept: a later success of another sink does not hide
// it. Set on a nil Receipt does nothing.
func (r *Receipt) Set(err error) {
	if r == nil {
		return
	}
	r.mu.Lock()
	if err != nil {
		r.err = err
		r.written = false
	} else if r.err == nil {
		r.written = true
	}
	r.mu.Unlock()
}

// Written reports whether a sink wrote the record, and the error when one
// tried and failed. (false, nil) means no sink was given the record, for
// example because the blacklist filtered it out.
func (r *Receipt) Written() (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.written, r.err
}
