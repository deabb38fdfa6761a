package processor

import (
	"context"
	"errors"

	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// Fanout returns a processor that hands every record to each of ps, in
// order, so that one EventFilter in front of it guards every destination
// with one set of lists. Each of ps gets the same *Record: a processor that
// keeps it past OnEmit must copy it (forward.Queue does). Shutdown and
// ForceFlush reach every processor, in order, and join their errors.
func Fanout(ps ...sdklog.Processor) sdklog.Processor { return fanout(ps) }

type fanout []sdklog.Processor

// Enabled reports whether any of the processors is enabled.
func (f fanout) Enabled(ctx context.Context, param sdklog.EnabledParameters) bool {
	for _, p := range f {
		if p.Enabled(ctx, param) {
			return true
		}
	}
	return false
}

// OnEmit hands r to every processor.
func (f fanout) OnEmit(ctx context.Context, r *sdklog.Record) error {
	var err error
	for _, p := range f {
		err = errors.Join(err, p.OnEmit(ctx, r))
	}
	return err
}

// Shutdown shuts every processor down.
func (f fanout) Shutdown(ctx context.Context) error {
	var err error
	for _, p := range f {
		err = errors.Join(err, p.Shutdown(ctx))
	}
	return err
}

// ForceFlush flushes every processor.
func (f fanout) ForceFlush(ctx context.Context) error {
	var err error
	for _, p := range f {
		err = errors.Join(err, p.ForceFlush(ctx))
	}
	return err
}
