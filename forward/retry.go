package forward

import (
	"context"
	"errors"
	"syscall"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/forward/otlpwire"
)

// DefaultRetryWindow is how long New sends again an export that reached no
// receiver.
const DefaultRetryWindow = 30 * time.Second

// RetryRefused returns exp behind a decorator that sends a batch again, with
// growing pauses (100ms doubling up to 5s, or what the receiver's
// Retry-After asks), while its export fails because the connection was
// refused (the collector is down or restarting) or the receiver answered
// that it took nothing and the batch may come again (otlpwire's
// RetryableError: 429, 502, 503, 504), for up to window; then, or when the
// Export context is done, it returns the last error. A window of 0 or less
// returns exp itself.
//
// Only such failures are retried: the receiver took nothing, so sending
// again cannot deliver a record twice. Other errors are returned at once:
// sending again after a timeout could deliver a record twice.
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
	for err != nil && notSent(err) && time.Now().Add(max(pause, asked(err))).Before(deadline) {
		t := time.NewTimer(max(pause, asked(err)))
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

// notSent reports whether err shows that the receiver took none of the
// batch: the connection was refused, or it answered that the batch may come
// again.
func notSent(err error) bool {
	_, again := otlpwire.RetryAfter(err)
	return again || errors.Is(err, syscall.ECONNREFUSED)
}

// asked returns the pause the receiver asked for (Retry-After), or 0.
func asked(err error) time.Duration {
	d, _ := otlpwire.RetryAfter(err)
	return d
}
