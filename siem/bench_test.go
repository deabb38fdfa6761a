package siem_test

import (
	"encoding/json"
	"testing"

	"github.com/otelaudit/otelaudit/internal/seed"
	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/siem"
)

// benchRecord is a line of Psono's documentation with a user and a kwarg,
// with the position and trace context a forwarded record carries.
func benchRecord(b *testing.B) siem.Record {
	l, err := psono.Parse(seed.Lines[5])
	if err != nil {
		b.Fatal(err)
	}
	return siem.Record{Line: l, Raw: seed.Lines[5], Position: &siem.Position{Tree: 1, Index: 5},
		TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "00f067aa0ba902b7"}
}

// BenchmarkOCSF is the cost of mapping one record to an OCSF event.
func BenchmarkOCSF(b *testing.B) {
	r := benchRecord(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := siem.OCSF(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkECS is the cost of mapping one record to an ECS document.
func BenchmarkECS(b *testing.B) {
	r := benchRecord(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := siem.ECS(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExportOCSF is what "otelaudit export -format ocsf" spends per
// line: parse, map, encode as JSON.
func BenchmarkExportOCSF(b *testing.B) {
	raw := seed.Lines[5]
	b.ReportAllocs()
	b.SetBytes(int64(len(raw) + 1))
	for b.Loop() {
		l, err := psono.Parse(raw)
		if err != nil {
			b.Fatal(err)
		}
		e, err := siem.OCSF(siem.Record{Line: l, Raw: raw})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExportECS is BenchmarkExportOCSF for ECS.
func BenchmarkExportECS(b *testing.B) {
	raw := seed.Lines[5]
	b.ReportAllocs()
	b.SetBytes(int64(len(raw) + 1))
	for b.Loop() {
		l, err := psono.Parse(raw)
		if err != nil {
			b.Fatal(err)
		}
		d, err := siem.ECS(siem.Record{Line: l, Raw: raw})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(d); err != nil {
			b.Fatal(err)
		}
	}
}
