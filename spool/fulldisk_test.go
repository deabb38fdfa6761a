package spool_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/otelaudit/otelaudit/internal/fulldisk"
	"github.com/otelaudit/otelaudit/sdklogtest"
	"github.com/otelaudit/otelaudit/spool"
)

// TestFullDisk: on a real file system that fills up, the records the spool
// cannot log are reported as not forwarded (nothing hangs, nothing
// panics), those logged before arrive, and once there is room again the
// spool logs, folds and sends as before; after a restart nothing is sent
// twice and nothing stored is missing.
func TestFullDisk(t *testing.T) {
	disk := fulldisk.New(t)
	path := filepath.Join(disk.Dir, "audit.spool")
	var mu sync.Mutex
	var reports []string
	logErr := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		reports = append(reports, err.Error())
	}
	rec := &sdklogtest.Recorder{}
	s := open(t, path, rec, spool.WithMaxBytes(1<<20), spool.WithErrorLog(logErr), spool.WithReportInterval(1))
	lp := emitter(s, resource.Empty())
	for i := range 5 {
		emit(t, lp, i, true)
	}
	waitFor(t, rec, 5)

	disk.Fill(t)
	for i := 5; i < 10; i++ {
		emit(t, lp, i, true)
	}
	disk.Free(t)
	for i := 10; i < 15; i++ {
		emit(t, lp, i, true)
	}
	if err := s.ForceFlush(context.Background()); err != nil {
		t.Fatalf("ForceFlush after the disk was freed: %v", err)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	got := numbers(rec)
	for _, want := range []int64{0, 1, 2, 3, 4, 10, 11, 12, 13, 14} {
		if !slices.Contains(got, want) {
			t.Errorf("record %d, stored before the disk filled or after it was freed, never arrived: got %v", want, got)
		}
	}
	lost := 0
	for i := int64(5); i < 10; i++ {
		if !slices.Contains(got, i) {
			lost++
		}
	}
	mu.Lock()
	said := strings.Join(reports, "\n")
	mu.Unlock()
	t.Logf("%d of the 5 records written while the disk was full did not arrive", lost)
	if lost > 0 && !strings.Contains(said, "could not be stored in the forwarding spool") {
		t.Errorf("%d records written while the disk was full did not arrive, and no report said so:\n%s", lost, said)
	}

	// A restart sends nothing again: everything stored was acknowledged.
	again := &sdklogtest.Recorder{}
	s = open(t, path, again)
	if err := s.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := again.Len(); n != 0 {
		t.Errorf("after a restart %d records were sent again: %v", n, numbers(again))
	}
	if dup := len(got) - len(slices.Compact(slices.Sorted(slices.Values(got)))); dup > 0 {
		t.Errorf("%d records arrived twice: %v", dup, got)
	}
}

// numbers returns the "n" attribute of every record rec holds.
func numbers(rec *sdklogtest.Recorder) []int64 {
	var ns []int64
	for _, r := range rec.Records() {
		if v, ok := attrs(r)["n"]; ok {
			ns = append(ns, v.AsInt64())
		}
	}
	return ns
}
