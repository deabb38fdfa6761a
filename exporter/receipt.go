package exporter

import (
	"context"
	"sync"
)

// A Receipt tells whoever emitted a record whether File wrote it. The SDK
// does not return a processor's error to the caller of Logger.Emit; emit with
// a context from NewReceiptContext and read the Receipt afterwards. Strict
// mode uses it to refuse a response whose record was not written.
type Receipt struct {
	mu      sync.Mutex
	written bool
	err     error
}

type receiptKey struct{}

// NewReceiptContext returns a context carrying a new Receipt, and the
// Receipt.
func NewReceiptContext(ctx context.Context) (context.Context, *Receipt) {
	r := new(Receipt)
	return context.WithValue(ctx, receiptKey{}, r), r
}

func receiptFrom(ctx context.Context) *Receipt {
	r, _ := ctx.Value(receiptKey{}).(*Receipt)
	return r
}

func (r *Receipt) set(err error) {
	r.mu.Lock()
	r.written = err == nil
	if err != nil {
		r.err = err
	}
	r.mu.Unlock()
}

// Written reports whether a File wrote the record, and the error when it
// tried and failed. (false, nil) means no File was given the record, for
// example because the blacklist filtered it out.
func (r *Receipt) Written() (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.written, r.err
}
