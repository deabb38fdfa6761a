package spool_test

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/otelaudit/otelaudit/durability"
	"github.com/otelaudit/otelaudit/forward"
	"github.com/otelaudit/otelaudit/sdklogtest"
	"github.com/otelaudit/otelaudit/spool"
)

// cpuTime returns the CPU time (user and system) the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSpool is the cost a request pays for forwarding: OnEmit of a
// typical record from 16×GOMAXPROCS goroutines (a busy server), with a
// do-nothing exporter, for the spool with each durability and for the
// in-memory queue (forward.Queue) as the baseline. ns/op is the wall time
// per record on the request path; cpu-ns/op is the process's CPU time per
// record (user and system, all goroutines: the committer and the sender
// included), measured until everything emitted has been exported.
func BenchmarkSpool(b *testing.B) {
	cases := []struct {
		name string
		open func(b *testing.B) sdklog.Processor
	}{
		{"queue", func(*testing.B) sdklog.Processor {
			// A loop that does nothing but emit can outrun the worker;
			// what it drops is reported as dropped/op (and costs nothing
			// more).
			return forward.NewQueue(sdklogtest.Nop{}, forward.WithErrorLog(func(error) {}))
		}},
		{"queue-nodrop", func(b *testing.B) sdklog.Processor {
			// Room for every record: each is exported, as the spool's are.
			return forward.NewQueue(sdklogtest.Nop{}, forward.WithErrorLog(func(error) {}), forward.WithQueueSize(b.N+1))
		}},
	}
	for _, d := range []durability.Mode{durability.Buffered, durability.Write, durability.Sync} {
		cases = append(cases, struct {
			name string
			open func(b *testing.B) sdklog.Processor
		}{d.String(), func(b *testing.B) sdklog.Processor {
			return open(b, filepath.Join(b.TempDir(), "spool"), sdklogtest.Nop{}, spool.WithDurability(d))
		}})
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			p := c.open(b)
			rec := &sdklogtest.Recorder{}
			lp := emitter(rec, resource.Default())
			emit(b, lp, 1, true)
			r := rec.Records()[0]
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cpuTime(b)
			b.SetParallelism(16) // a busy server: many requests at once
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := p.OnEmit(ctx, &r); err != nil {
						b.Error(err)
						return
					}
				}
			})
			if err := p.ForceFlush(ctx); err != nil { // everything exported
				b.Error(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N), "cpu-ns/op")
			if q, ok := p.(*forward.Queue); ok {
				b.ReportMetric(float64(q.Dropped())/float64(b.N), "dropped/op")
			}
			_ = p.Shutdown(ctx)
		})
	}
}
