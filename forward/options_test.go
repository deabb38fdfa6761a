package forward_test

import (
	"context"
	"testing"
	"time"

	"github.com/otelaudit/otelaudit/forward"
	"github.com/otelaudit/otelaudit/sdklogtest"
)

// TestZeroOptions: every option takes zero and negative values as its
// default; none panics (WithExportInterval(0) once did, in the queue's
// goroutine), and the queue still delivers.
func TestZeroOptions(t *testing.T) {
	for _, v := range []int{0, -1} {
		rec := &sdklogtest.Recorder{}
		q := forward.NewQueue(rec,
			forward.WithQueueSize(v), forward.WithMaxBatch(v), forward.WithExportInterval(time.Duration(v)),
			forward.WithShutdownTimeout(time.Duration(v)), forward.WithReportInterval(time.Duration(v)))
		if err := q.OnEmit(context.Background(), requestRecord()); err != nil {
			t.Fatal(err)
		}
		if err := q.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		if rec.Len() != 1 || q.Dropped() != 0 {
			t.Fatalf("value %d: %d exported, %d dropped; want 1 and 0", v, rec.Len(), q.Dropped())
		}
	}
}
