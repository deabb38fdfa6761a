package otlpwire

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"
)

const benchRecords = 100

// perRecord reports ns/record and allocs/record of a benchmark whose every
// iteration handles benchRecords records.
func perRecord(b *testing.B, run func()) {
	b.Helper()
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for b.Loop() {
		run()
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	n := float64(b.N) * benchRecords
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/record")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/record")
}

// BenchmarkEncode encodes a batch of 100 Psono-style records (a log line
// body, twelve string and int attributes, trace context) with
// AppendRequest, into a reused buffer.
func BenchmarkEncode(b *testing.B) {
	records := psonoBatch(b, benchRecords)
	buf := make([]byte, 0, 1<<20)
	var err error
	perRecord(b, func() {
		buf, err = AppendRequest(buf[:0], records)
		if err != nil {
			b.Fatal(err)
		}
	})
	b.ReportMetric(float64(len(buf))/benchRecords, "bytes/record")
}

// BenchmarkExport exports the same batch over HTTP to a loopback server
// that discards it, with otlploghttp and with this package: both pay the
// same round trip, so the difference is the conversion and marshalling.
func BenchmarkExport(b *testing.B) {
	records := psonoBatch(b, benchRecords)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	b.Cleanup(srv.Close)
	clearOTLPEnv(b)
	ctx := context.Background()

	bench := func(name string, exp sdklog.Exporter) {
		b.Run(name, func(b *testing.B) {
			perRecord(b, func() {
				if err := exp.Export(ctx, records); err != nil {
					b.Fatal(err)
				}
			})
		})
		_ = exp.Shutdown(ctx)
	}
	for _, gzip := range []bool{false, true} {
		suffix := ""
		std := []otlploghttp.Option{otlploghttp.WithEndpointURL(srv.URL + "/v1/logs"), otlploghttp.WithRetry(otlploghttp.RetryConfig{Enabled: false})}
		mine := []Option{WithEndpointURL(srv.URL + "/v1/logs")}
		if gzip {
			suffix = "/gzip"
			std = append(std, otlploghttp.WithCompression(otlploghttp.GzipCompression))
			mine = append(mine, WithCompression(GzipCompression))
		}
		stdExp, err := otlploghttp.New(ctx, std...)
		if err != nil {
			b.Fatal(err)
		}
		bench("otlploghttp"+suffix, stdExp)
		wireExp, err := New(ctx, mine...)
		if err != nil {
			b.Fatal(err)
		}
		bench("otlpwire"+suffix, wireExp)
	}
}
