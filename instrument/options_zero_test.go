package instrument_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/sdklogtest"
)

// TestZeroOptions: an option given zero or a negative number means its
// default, as in the OpenTelemetry SDK; none panics.
func TestZeroOptions(t *testing.T) {
	for _, v := range []int{0, -1} {
		rec := &sdklogtest.Recorder{}
		lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(rec))
		h := instrument.NewHandler(http.NotFoundHandler(), instrument.WithLoggerProvider(lp),
			instrument.WithMaxValueLength(v), instrument.WithStrictLimits(int64(v), int64(v)))
		long := "/" + strings.Repeat("a", 1000)
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", long, nil))
		_ = lp.Shutdown(context.Background())
		recs := rec.Records()
		if len(recs) != 1 {
			t.Fatalf("value %d: %d records", v, len(recs))
		}
		var url string
		recs[0].WalkAttributes(func(kv attribute.KeyValue) bool {
			if string(kv.Key) == string(psono.ReqURL.Attr) {
				url = kv.Value.AsString()
			}
			return true
		})
		if url != long {
			t.Errorf("value %d: a %d-byte path was recorded as %d bytes; the default limit is %d", v, len(long), len(url), instrument.DefaultMaxValueLength)
		}
	}
}
