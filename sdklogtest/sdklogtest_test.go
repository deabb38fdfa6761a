package sdklogtest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/sdklogtest"
)

var (
	_ sdklog.Processor = (*sdklogtest.Recorder)(nil)
	_ sdklog.Exporter  = (*sdklogtest.Recorder)(nil)
	_ sdklog.Processor = sdklogtest.Nop{}
	_ sdklog.Exporter  = sdklogtest.Nop{}
)

func TestRecorder(t *testing.T) {
	rec := &sdklogtest.Recorder{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(rec))
	got := make(chan []sdklog.Record)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		recs, _ := rec.Wait(ctx, 2)
		got <- recs
	}()
	for _, ev := range []string{"A", "B"} {
		var r log.Record
		r.SetEventName(ev)
		lp.Logger("test").Emit(context.Background(), r)
	}
	recs := <-got
	if len(recs) != 2 || recs[0].EventName() != "A" || recs[1].EventName() != "B" {
		t.Fatalf("Wait(2) = %d records %v", len(recs), recs)
	}
	if rec.Len() != 2 || rec.Calls() != 2 {
		t.Errorf("Len %d, Calls %d; want 2, 2", rec.Len(), rec.Calls())
	}

	refused := errors.New("refused")
	rec.Hook = func(context.Context, []sdklog.Record) error { return refused }
	if err := rec.Export(context.Background(), make([]sdklog.Record, 3)); err != refused {
		t.Errorf("Export with a failing Hook = %v, want its error", err)
	}
	if rec.Len() != 2 || rec.Calls() != 3 {
		t.Errorf("after a failed export: Len %d, Calls %d; want 2, 3", rec.Len(), rec.Calls())
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := rec.Wait(ctx, 3); err != context.Canceled {
		t.Errorf("Wait with an ended context = %v, want context.Canceled", err)
	}
}
