// Package sdklogtest provides in-memory stand-ins for the
// go.opentelemetry.io/otel/sdk/log Processor and Exporter interfaces: a
// [Recorder] that keeps every record it is given, and [Nop], which does
// nothing. They are the test doubles otelaudit's own tests use, public so
// that a third party can test against the same ones: code that emits audit
// records (a handler behind instrument.NewHandler, an adapter for another
// router or RPC framework, a Recorder of events) and code that sits in the
// pipeline (a processor or exporter of a new stage).
//
// To see the records a handler's requests give, put a Recorder behind the
// LoggerProvider the middleware emits to:
//
//	rec := &sdklogtest.Recorder{}
//	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(rec))
//	h := instrument.NewHandler(mux, instrument.WithLoggerProvider(lp))
//	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/items/7/", nil))
//	records := rec.Records() // one per request, attribute keys as package psono names them
//
// A Recorder's Hook stands in for a slow or failing destination (return an
// error, block on a channel), and Wait waits for records a batching
// processor delivers later. To prove an adapter against audit.log lines
// themselves, see package instrument/route/routertest.
package sdklogtest

import (
	"context"
	"sync"

	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// Recorder is an sdklog.Processor and an sdklog.Exporter that keeps a copy
// of every record it is given, through OnEmit or Export. The zero value is
// ready to use; a Recorder is safe for concurrent use.
type Recorder struct {
	// Hook, when not nil, is called first by every OnEmit (with the one
	// record) and Export. When it returns an error, that error is returned
	// and the records are not kept. It can block, fail or signal, standing
	// in for a slow or broken destination.
	Hook func(ctx context.Context, records []sdklog.Record) error

	mu      sync.Mutex
	records []sdklog.Record
	calls   int
	changed chan struct{} // closed and replaced when records grow
}

// Enabled reports true: a Recorder takes every record.
func (r *Recorder) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }

// OnEmit keeps a copy of rec.
func (r *Recorder) OnEmit(ctx context.Context, rec *sdklog.Record) error {
	return r.Export(ctx, []sdklog.Record{*rec})
}

// Export keeps a copy of every record of the batch.
func (r *Recorder) Export(ctx context.Context, records []sdklog.Record) error {
	r.mu.Lock()
	r.calls++
	r.mu.Unlock()
	if r.Hook != nil {
		if err := r.Hook(ctx, records); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range records {
		r.records = append(r.records, rec.Clone())
	}
	if r.changed != nil {
		close(r.changed)
		r.changed = nil
	}
	return nil
}

// Shutdown does nothing.
func (r *Recorder) Shutdown(context.Context) error { return nil }

// ForceFlush does nothing.
func (r *Recorder) ForceFlush(context.Context) error { return nil }

// Records returns the records kept so far, in the order they came.
func (r *Recorder) Records() []sdklog.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sdklog.Record(nil), r.records...)
}

// Len returns the number of records kept so far.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.records)
}

// Calls returns the number of OnEmit and Export calls so far, including
// those whose Hook failed.
func (r *Recorder) Calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

// Wait returns the records once at least n have been kept, or ctx's error
// when it ends first.
func (r *Recorder) Wait(ctx context.Context, n int) ([]sdklog.Record, error) {
	for {
		r.mu.Lock()
		if len(r.records) >= n {
			defer r.mu.Unlock()
			return append([]sdklog.Record(nil), r.records...), nil
		}
		if r.changed == nil {
			r.changed = make(chan struct{})
		}
		changed := r.changed
		r.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Nop is an sdklog.Processor and an sdklog.Exporter that takes every record
// and does nothing with it: the cheapest destination, for benchmarks.
type Nop struct{}

// Enabled reports true.
func (Nop) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }

// OnEmit does nothing.
func (Nop) OnEmit(context.Context, *sdklog.Record) error { return nil }

// Export does nothing.
func (Nop) Export(context.Context, []sdklog.Record) error { return nil }

// Shutdown does nothing.
func (Nop) Shutdown(context.Context) error { return nil }

// ForceFlush does nothing.
func (Nop) ForceFlush(context.Context) error { return nil }
