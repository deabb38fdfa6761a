package forward_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/forward"
	"github.com/otelaudit/otelaudit/sdklogtest"
)

// benchRecord returns an SDK record with the 11 attributes of a typical
// audit record, made the way the SDK makes it.
func benchRecord(b *testing.B) sdklog.Record {
	rec := &sdklogtest.Recorder{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(rec))
	var r log.Record
	r.SetEventName("LIST_DATASTORE_SUCCESS")
	for _, k := range []string{"audit.logger", "client.address", "http.request.method", "url.path", "host.name",
		"user.name", "user.id", "audit.kwarg.datastore_id", "http.route"} {
		r.AddAttributes(attribute.String(k, "bed4572d-6a28-4c00-94c2-dd45322de1d0"))
	}
	r.AddAttributes(attribute.Bool("audit.success", true), attribute.Int("http.response.status_code", 200))
	lp.Logger("bench").Emit(context.Background(), r)
	got := rec.Records()[0]
	if got.AttributesLen() != 11 {
		b.Fatalf("record has %d attributes, want 11", got.AttributesLen())
	}
	return got
}

// BenchmarkQueue is the cost a request pays for OTLP forwarding before the
// exporter: Queue.OnEmit (a copy of the record into the bounded queue) from
// GOMAXPROCS goroutines, with a do-nothing exporter behind it, and the
// SDK's own BatchProcessor in the same place as the baseline.
func BenchmarkQueue(b *testing.B) {
	for _, c := range []struct {
		name string
		p    func() sdklog.Processor
	}{
		{"forward.Queue", func() sdklog.Processor {
			// A loop that does nothing but emit can outrun the worker;
			// what it drops is reported as dropped/op, not warned about.
			return forward.NewQueue(sdklogtest.Nop{}, forward.WithErrorLog(func(error) {}))
		}},
		{"sdklog.BatchProcessor", func() sdklog.Processor { return sdklog.NewBatchProcessor(sdklogtest.Nop{}) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			p := c.p()
			r := benchRecord(b)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := p.OnEmit(ctx, &r); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			if err := p.Shutdown(ctx); err != nil {
				b.Fatal(err)
			}
			if q, ok := p.(*forward.Queue); ok {
				b.ReportMetric(float64(q.Dropped())/float64(b.N), "dropped/op")
			}
		})
	}
}
