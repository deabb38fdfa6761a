package forward_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/forward"
	"github.com/otelaudit/otelaudit/forward/otlpwire"
)

// TestRetryAnswers: a receiver that answers "not now" (503, 429 with
// Retry-After) took nothing, so RetryRefused sends the batch again, after
// the pause the receiver asked for; an answer that the batch is wrong (400)
// is returned at once.
func TestRetryAnswers(t *testing.T) {
	for _, tc := range []struct {
		name      string
		first     int
		header    string
		wantCalls int64
		wantErr   bool
		minWait   time.Duration
	}{
		{"503", http.StatusServiceUnavailable, "", 2, false, 0},
		{"429 Retry-After", http.StatusTooManyRequests, "1", 2, false, time.Second},
		{"400", http.StatusBadRequest, "", 1, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				if calls.Add(1) == 1 {
					if tc.header != "" {
						w.Header().Set("Retry-After", tc.header)
					}
					w.WriteHeader(tc.first)
					return
				}
				w.Header().Set("Content-Type", "application/x-protobuf")
			}))
			defer srv.Close()
			exp, err := otlpwire.New(context.Background(), otlpwire.WithEndpointURL(srv.URL+"/v1/logs"))
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			err = forward.RetryRefused(exp, 10*time.Second).Export(context.Background(), make([]sdklog.Record, 1))
			if (err != nil) != tc.wantErr {
				t.Errorf("Export: %v, want an error: %v", err, tc.wantErr)
			}
			if got := calls.Load(); got != tc.wantCalls {
				t.Errorf("%d requests, want %d", got, tc.wantCalls)
			}
			if waited := time.Since(start); waited < tc.minWait {
				t.Errorf("sent again after %v, the receiver asked for %v", waited, tc.minWait)
			}
		})
	}
}
