package instrument_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/sdklogtest"
)

// TestMisuseReported: a setter called with a context that holds no audit
// record is reported once per calling line, naming the setter and the line;
// inside the middleware nothing is reported.
func TestMisuseReported(t *testing.T) {
	var (
		mu   sync.Mutex
		errs []string
	)
	instrument.SetMisuseReporter(func(err error) { mu.Lock(); errs = append(errs, err.Error()); mu.Unlock() })
	t.Cleanup(func() { instrument.SetMisuseReporter(nil) })

	ctx := context.Background()
	for range 3 {
		instrument.SetEvent(ctx, "X_SUCCESS") // one line, three calls: one report
	}
	instrument.SetUser(ctx, "u", "1")
	instrument.AddKwargValue(ctx, "n", 1)
	if instrument.InScope(ctx) {
		t.Error("InScope(Background) = true")
	}

	h := instrument.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !instrument.InScope(r.Context()) {
			t.Error("InScope(request) = false")
		}
		instrument.SetEvent(r.Context(), "X_SUCCESS")
		instrument.AddKwarg(r.Context(), "k", "v")
	}), instrument.WithLoggerProvider(sdklog.NewLoggerProvider(sdklog.WithProcessor(&sdklogtest.Recorder{}))))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))

	mu.Lock()
	defer mu.Unlock()
	want := []string{"instrument.SetEvent called at", "instrument.SetUser called at", "instrument.AddKwargValue called at"}
	if len(errs) != len(want) {
		t.Fatalf("reports = %q, want %d", errs, len(want))
	}
	for i, w := range want {
		if !strings.Contains(errs[i], w) || !strings.Contains(errs[i], "misuse_test.go:") {
			t.Errorf("report %d = %q, want it to contain %q and the calling line", i, errs[i], w)
		}
	}
}
