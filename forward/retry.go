package forward

import (
	"context"
	"errors"
	"syscall"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// DefaultRetryWindow is how long New sends again an export that reached no
// receiver.
const DefaultRetryWindow = 30 * time.Second

// RetryRefused returns exp behind a decorator that sends a batch again, with
// growing pauses (100ms doubling up to 5s), while its export fails because
// the connection was refused (the collector is down or restarting), for up
// to window; then, or when the Export context is done, it returns the last
// error. A window of 0 or less returns exp itself.
//
// Only a refused connection is retried: nothing was sent, so sending again
// cannot deliver a record twice. The OTLP/HTTP exporter gives up on a
// refused connection at once (it retries only answers such as 503), which
// would otherwise lose every batch exported while a collector restarts.
// Other errors are left to the exporter's own retry policy: sending again
// after a timeout could deliver a record twice.
func RetryRefused(exp sdklog.Exporter, window time.Duration) sdklog.Exporter {
	if window <= 0 {
		return exp
	}
	return retryRefused{exp, window}
}

type retryRefused struct {
	sdklog.Exporter
	window time.Duration
}

func (e retryRefused) Export(ctx context.Context, records []sdklog.Record) error {
	err := e.Exporter.Export(ctx, records)
	if err == nil || !notSent(err) {
		return err
	}
	deadline := time.Now().Add(e.window)
	pause := 100 * time.Millisecond
	for err != nil && notSent(err) && time.Now().Add(pause).Before(deadline) {
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		}
		err = e.Exporter.Export(ctx, records)
		pause = min(2*pause, 5*time.Second)
	}
	return err
}

// notSent reports whether err shows that an export reached no receiver at
// all: the connection was refused.
func notSent(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED)
}
