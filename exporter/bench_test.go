package exporter_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/otelaudit/otelaudit/exporter"
	"github.com/otelaudit/otelaudit/psono"
)

// The record every benchmark here formats or writes: Psono's documented
// LIST_DATASTORE_SUCCESS line, with the route attribute the middleware adds.
var (
	benchTime  = time.Date(2020, 5, 24, 7, 55, 41, 473771000, time.UTC)
	benchEvent = "LIST_DATASTORE_SUCCESS"
	benchAttrs = []attribute.KeyValue{
		attribute.String(string(psono.Logger.Attr), "restapi.views.datastore"),
		attribute.String(string(psono.UserIP.Attr), "10.10.10.145"),
		attribute.String(string(psono.ReqMethod.Attr), "GET"),
		attribute.String(string(psono.ReqURL.Attr), "/datastore/bed4572d-6a28-4c00-94c2-dd45322de1d0/"),
		attribute.Bool(string(psono.Success.Attr), true),
		attribute.String(string(psono.Hostname.Attr), "0a5048185933"),
		attribute.Int(string(psono.Status.Attr), 200),
		attribute.String(string(psono.User.Attr), "demo2@example.com"),
		attribute.String(string(psono.UserID.Attr), "ba504938-9a23-4162-867f-6840c301bc20"),
		attribute.String(string(psono.KwargAttr("datastore_id")), "bed4572d-6a28-4c00-94c2-dd45322de1d0"),
		attribute.String(string(psono.Route), "GET /datastore/{datastore_id}/"),
	}
	benchLine = "2020-05-24T07:55:41.473771 logger=restapi.views.datastore, user_ip=10.10.10.145, req_method=GET, req_url=/datastore/bed4572d-6a28-4c00-94c2-dd45322de1d0/, success=True, hostname=0a5048185933, status=HTTP_200_OK, event=LIST_DATASTORE_SUCCESS, user=demo2@example.com, user_id=ba504938-9a23-4162-867f-6840c301bc20, kwarg_datastore_id=bed4572d-6a28-4c00-94c2-dd45322de1d0\n"
)

func benchRecord(b *testing.B) sdklog.Record {
	r := record(benchEvent, benchAttrs...)
	if got := string(exporter.AppendLine(nil, &r, time.UTC)); got != benchLine {
		b.Fatalf("AppendLine = %q, want %q", got, benchLine)
	}
	return r
}

func reportLines(b *testing.B) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "lines/s")
	}
}

// BenchmarkLineFormat formats the same audit record with AppendLine and,
// as baselines in the same run, with log/slog's TextHandler and zap's
// console and JSON encoders. Each baseline is given its record ready-made
// and writes to io.Discard, so only formatting is measured, as for
// AppendLine.
func BenchmarkLineFormat(b *testing.B) {
	b.Run("otelaudit.AppendLine", func(b *testing.B) {
		r := benchRecord(b)
		buf := make([]byte, 0, 1024)
		b.ReportAllocs()
		for b.Loop() {
			buf = exporter.AppendLine(buf[:0], &r, time.UTC)
		}
		reportLines(b)
	})

	slogAttrs := []slog.Attr{
		slog.String("logger", "restapi.views.datastore"),
		slog.String("user_ip", "10.10.10.145"),
		slog.String("req_method", "GET"),
		slog.String("req_url", "/datastore/bed4572d-6a28-4c00-94c2-dd45322de1d0/"),
		slog.Bool("success", true),
		slog.String("hostname", "0a5048185933"),
		slog.String("status", "HTTP_200_OK"),
		slog.String("event", benchEvent),
		slog.String("user", "demo2@example.com"),
		slog.String("user_id", "ba504938-9a23-4162-867f-6840c301bc20"),
		slog.String("kwarg_datastore_id", "bed4572d-6a28-4c00-94c2-dd45322de1d0"),
	}
	b.Run("slog.TextHandler", func(b *testing.B) {
		h := slog.NewTextHandler(io.Discard, nil)
		rec := slog.NewRecord(benchTime, slog.LevelInfo, "", 0)
		rec.AddAttrs(slogAttrs...)
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if err := h.Handle(ctx, rec); err != nil {
				b.Fatal(err)
			}
		}
		reportLines(b)
	})
	b.Run("slog.Logger.LogAttrs", func(b *testing.B) {
		l := slog.New(slog.NewTextHandler(io.Discard, nil))
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			l.LogAttrs(ctx, slog.LevelInfo, "", slogAttrs...)
		}
		reportLines(b)
	})

	zapFields := []zap.Field{
		zap.String("logger", "restapi.views.datastore"),
		zap.String("user_ip", "10.10.10.145"),
		zap.String("req_method", "GET"),
		zap.String("req_url", "/datastore/bed4572d-6a28-4c00-94c2-dd45322de1d0/"),
		zap.Bool("success", true),
		zap.String("hostname", "0a5048185933"),
		zap.String("status", "HTTP_200_OK"),
		zap.String("event", benchEvent),
		zap.String("user", "demo2@example.com"),
		zap.String("user_id", "ba504938-9a23-4162-867f-6840c301bc20"),
		zap.String("kwarg_datastore_id", "bed4572d-6a28-4c00-94c2-dd45322de1d0"),
	}
	entry := zapcore.Entry{Level: zapcore.InfoLevel, Time: benchTime}
	for _, enc := range []struct {
		name string
		enc  zapcore.Encoder
	}{
		{"zap.ConsoleEncoder", zapcore.NewConsoleEncoder(zap.NewProductionEncoderConfig())},
		{"zap.JSONEncoder", zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())},
	} {
		b.Run(enc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				buf, err := enc.enc.EncodeEntry(entry, zapFields)
				if err != nil {
					b.Fatal(err)
				}
				buf.Free()
			}
			reportLines(b)
		})
	}
}

// BenchmarkAppendValue measures the encoder on the values of a typical line
// and on values that need escaping.
func BenchmarkAppendValue(b *testing.B) {
	for _, v := range []struct{ name, s string }{
		{"uuid", "bed4572d-6a28-4c00-94c2-dd45322de1d0"},
		{"path", "/datastore/bed4572d-6a28-4c00-94c2-dd45322de1d0/"},
		{"quoted", `say "hi" to C:\Program Files`},
		{"unicode", "ünïcödé dätästörë"},
	} {
		b.Run(v.name, func(b *testing.B) {
			buf := make([]byte, 0, 256)
			b.SetBytes(int64(len(v.s)))
			for b.Loop() {
				buf = psono.AppendValue(buf[:0], v.s)
			}
		})
	}
}

// BenchmarkFile writes the benchmark record to a temporary audit.log through
// File.OnEmit (the processor path otelaudit.New uses) with each durability,
// from GOMAXPROCS goroutines and from 64, and reports lines/s.
func BenchmarkFile(b *testing.B) {
	for _, d := range []exporter.Durability{exporter.Buffered, exporter.Write, exporter.Sync} {
		for _, goroutines := range []int{0, 64} {
			name := d.String() + "/goroutines=GOMAXPROCS"
			if goroutines != 0 {
				name = d.String() + "/goroutines=64"
			}
			b.Run(name, func(b *testing.B) {
				f, err := exporter.NewFile(filepath.Join(b.TempDir(), "audit.log"), exporter.WithDurability(d))
				if err != nil {
					b.Fatal(err)
				}
				r := benchRecord(b)
				ctx := context.Background()
				if goroutines != 0 {
					b.SetParallelism(max(1, goroutines/runtime.GOMAXPROCS(0)))
				}
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					r := r.Clone() // OnEmit adds the line's position to it
					for pb.Next() {
						if err := f.OnEmit(ctx, &r); err != nil {
							b.Error(err)
							return
						}
					}
				})
				if err := f.Shutdown(ctx); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				reportLines(b)
			})
		}
	}
}
