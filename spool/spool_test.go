package spool_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit/durability"
	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/sdklogtest"
	"github.com/otelaudit/otelaudit/spool"
)

var (
	traceID = trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	spanID  = trace.SpanID{8, 7, 6, 5, 4, 3, 2, 1}
)

// emitter returns a LoggerProvider whose records go to p, with the resource
// res, as otelaudit's provider makes them.
func emitter(p sdklog.Processor, res *resource.Resource) *sdklog.LoggerProvider {
	return sdklog.NewLoggerProvider(sdklog.WithProcessor(p), sdklog.WithResource(res), sdklog.WithAllowKeyDuplication())
}

// emit emits request record i, with the position (1, i) when pos is true.
func emit(t testing.TB, lp *sdklog.LoggerProvider, i int, pos bool) {
	t.Helper()
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: traceID, SpanID: spanID, TraceFlags: trace.FlagsSampled}))
	var r log.Record
	r.SetTimestamp(time.Unix(1700000000, int64(i)))
	r.SetObservedTimestamp(time.Unix(1700000001, 0))
	r.SetSeverity(log.SeverityInfo)
	r.SetSeverityText("INFO")
	r.SetEventName("READ_SECRET_SUCCESS")
	r.AddAttributes(
		attribute.Int("n", i),
		attribute.String("http.route", "GET /secret/{id}"),
		attribute.Bool("audit.success", true),
		attribute.Int("http.response.status_code", 200),
		attribute.Float64("f", 1.5),
		attribute.StringSlice("ss", []string{"a", "b"}),
		attribute.Int64Slice("is", []int64{1, -2}),
		attribute.Map("m", attribute.String("k", "v"), attribute.Int("j", 3)),
		attribute.Slice("s", attribute.StringValue("x"), attribute.BoolValue(false)),
		attribute.ByteSlice("b", []byte{0, 255}),
	)
	if pos {
		r.AddAttributes(psono.LogTree.Int64(1), psono.LogIndex.Int64(int64(i)))
	}
	lp.Logger("github.com/otelaudit/otelaudit/instrument", log.WithInstrumentationVersion("v1")).Emit(ctx, r)
}

func emitCheckpoint(lp *sdklog.LoggerProvider, tree int64) {
	var r log.Record
	r.SetEventName(psono.CheckpointEvent)
	r.SetSeverity(log.SeverityInfo)
	r.AddAttributes(psono.LogTree.Int64(tree), psono.LogCheckpoint.String("note"))
	lp.Logger(psono.CheckpointScope).Emit(context.Background(), r)
}

func attrs(r sdklog.Record) map[string]attribute.Value {
	m := map[string]attribute.Value{}
	r.WalkAttributes(func(kv attribute.KeyValue) bool { m[string(kv.Key)] = kv.Value; return true })
	return m
}

func waitFor(t testing.TB, rec *sdklogtest.Recorder, n int) []sdklog.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := rec.Wait(ctx, n)
	if err != nil {
		t.Fatalf("waited for %d records, have %d: %v", n, rec.Len(), err)
	}
	return got
}

func open(t testing.TB, path string, exp sdklog.Exporter, opts ...spool.Option) *spool.Spool {
	t.Helper()
	opts = append([]spool.Option{spool.WithErrorLog(func(error) {}), spool.WithRetry(time.Millisecond, 20*time.Millisecond),
		spool.WithOrigin("host/var/log/audit.log")}, opts...)
	s, err := spool.Open(path, exp, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRoundTrip: every field an OTLP exporter sends survives the spool,
// with each durability, and the spool adds its uid, sequence and origin:
// sent by the process that stored them, and after a restart.
func TestRoundTrip(t *testing.T) {
	for _, d := range []durability.Mode{durability.Write, durability.Sync, durability.Buffered} {
		for _, restart := range []bool{false, true} {
			name := d.String()
			if restart {
				name += "/restart"
			}
			t.Run(name, func(t *testing.T) { roundTrip(t, d, restart) })
		}
	}
}

func roundTrip(t *testing.T, d durability.Mode, restart bool) {
	rec := &sdklogtest.Recorder{}
	path := filepath.Join(t.TempDir(), "spool")
	var s *spool.Spool
	if restart {
		s = open(t, path, newFlaky(), spool.WithDurability(d), spool.WithShutdownTimeout(time.Millisecond))
	} else {
		s = open(t, path, rec, spool.WithDurability(d))
	}
	res := resource.NewWithAttributes("https://schema", attribute.String("service.name", "svc"), attribute.Int("n", 7))
	lp := emitter(s, res)
	for i := range 3 {
		emit(t, lp, i, i != 1)
	}
	if restart {
		if err := s.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		s = open(t, path, rec, spool.WithDurability(d))
	}
	got := waitFor(t, rec, 3)
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	uids := map[string]bool{}
	for i, r := range got {
		a := attrs(r)
		if r.EventName() != "READ_SECRET_SUCCESS" || r.Severity() != log.SeverityInfo || r.SeverityText() != "INFO" ||
			!r.Timestamp().Equal(time.Unix(1700000000, int64(i))) || !r.ObservedTimestamp().Equal(time.Unix(1700000001, 0)) {
			t.Errorf("record %d: event %q severity %v %q time %v observed %v", i, r.EventName(), r.Severity(), r.SeverityText(), r.Timestamp(), r.ObservedTimestamp())
		}
		if r.TraceID() != traceID || r.SpanID() != spanID || r.TraceFlags() != trace.FlagsSampled {
			t.Errorf("record %d: trace %v span %v flags %v", i, r.TraceID(), r.SpanID(), r.TraceFlags())
		}
		if r.Resource().Equivalent() != res.Equivalent() || r.Resource().SchemaURL() != "https://schema" {
			t.Errorf("record %d: resource %v, want %v", i, r.Resource(), res)
		}
		if sc := r.InstrumentationScope(); sc.Name != "github.com/otelaudit/otelaudit/instrument" || sc.Version != "v1" {
			t.Errorf("record %d: scope %+v", i, sc)
		}
		for k, want := range map[string]attribute.Value{
			"n": attribute.Int64Value(int64(i)), "http.route": attribute.StringValue("GET /secret/{id}"),
			"audit.success": attribute.BoolValue(true), "http.response.status_code": attribute.Int64Value(200),
			"f": attribute.Float64Value(1.5), "ss": attribute.StringSliceValue([]string{"a", "b"}),
			"is":                   attribute.Int64SliceValue([]int64{1, -2}),
			"m":                    attribute.MapValue(attribute.String("k", "v"), attribute.Int("j", 3)),
			"s":                    attribute.SliceValue(attribute.StringValue("x"), attribute.BoolValue(false)),
			"b":                    attribute.ByteSliceValue([]byte{0, 255}),
			string(spool.SpoolSeq): attribute.Int64Value(int64(i + 1)),
			string(spool.Origin):   attribute.StringValue("host/var/log/audit.log"),
		} {
			if g, ok := a[k]; !ok || g.String() != want.String() || g.Type() != want.Type() {
				t.Errorf("record %d: %s = %v (%v), want %v (%v)", i, k, g.String(), g.Type(), want.String(), want.Type())
			}
		}
		if _, ok := a[string(psono.LogIndex)]; ok != (i != 1) {
			t.Errorf("record %d: has position %v", i, ok)
		}
		uid := a[string(spool.RecordUID)].AsString()
		if uid == "" || uids[uid] {
			t.Errorf("record %d: uid %q empty or repeated", i, uid)
		}
		uids[uid] = true
	}
}

// flaky fails every export until it is let through, counting the attempts.
type flaky struct {
	sdklogtest.Recorder
	ok       atomic.Bool
	attempts atomic.Int64
	many     chan struct{} // closed at the 20th attempt
}

func newFlaky() *flaky {
	f := &flaky{many: make(chan struct{})}
	f.Hook = func(context.Context, []sdklog.Record) error {
		if f.attempts.Add(1) == 20 {
			close(f.many)
		}
		if !f.ok.Load() {
			return errors.New("collector down")
		}
		return nil
	}
	return f
}

// TestRetriesAndRestart: while the exporter fails, the records stay spooled
// and are tried again with no limit; a spool closed then and opened again
// sends them, each once, in order, with the uid they had.
func TestRetriesAndRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spool")
	down := newFlaky()
	s := open(t, path, down, spool.WithShutdownTimeout(50*time.Millisecond))
	lp := emitter(s, resource.Empty())
	const n = 50
	for i := range n {
		emit(t, lp, i, true)
	}
	<-down.many // many attempts, none given up
	if s.Pending() != n || s.Dropped() != 0 {
		t.Fatalf("pending %d dropped %d after failed exports, want %d and 0", s.Pending(), s.Dropped(), n)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	up := &sdklogtest.Recorder{}
	s2 := open(t, path, up, spool.WithMaxBatch(7))
	got := waitFor(t, up, n)
	if err := s2.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s2.Pending() != 0 {
		t.Errorf("pending %d after ForceFlush", s2.Pending())
	}
	if err := s2.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(up.Records()) != n {
		t.Errorf("%d records sent after the restart, want %d", len(up.Records()), n)
	}
	for i, r := range got {
		if idx := attrs(r)[string(psono.LogIndex)].AsInt64(); idx != int64(i) {
			t.Errorf("record %d has index %d", i, idx)
		}
		if uid := attrs(r)[string(spool.RecordUID)].AsString(); uid != fmt.Sprintf("%s-%d", s2.ID(), i+1) {
			t.Errorf("record %d uid %q", i, uid)
		}
	}
}

// TestBudget: with the exporter down, a spool over its budget drops its
// oldest records (never a checkpoint), counts them and tells WithOnDrop;
// the drop is kept on disk, and when delivery resumes (here after a
// restart) the first record sent is AUDIT_RECORDS_DROPPED, naming exactly
// the sequence numbers and positions that never arrive.
func TestBudget(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spool")
	told := newDropCounter()
	s := open(t, path, newFlaky(), spool.WithMaxBytes(20_000), spool.WithShutdownTimeout(time.Millisecond),
		spool.WithReportInterval(time.Millisecond), spool.WithOnDrop(told.add))
	lp := emitter(s, resource.Empty())
	emitCheckpoint(lp, 1)
	const n = 200
	for i := range n {
		emit(t, lp, i, true)
	}
	dropped := s.Dropped()
	if dropped == 0 || dropped >= n {
		t.Fatalf("dropped %d of %d records over the budget", dropped, n)
	}
	told.wait(t, dropped)
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	up := &sdklogtest.Recorder{}
	s2 := open(t, path, up)
	waitFor(t, up, 2+n-int(dropped))
	if err := s2.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s2.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := up.Records()
	if got[0].EventName() != spool.DroppedEvent || got[0].InstrumentationScope().Name != spool.Scope {
		t.Fatalf("first record sent %q in %q, want %s", got[0].EventName(), got[0].InstrumentationScope().Name, spool.DroppedEvent)
	}
	da := attrs(got[0])
	if c := da[string(spool.DroppedCount)].AsInt64(); c != dropped {
		t.Errorf("drop record counts %d, want %d", c, dropped)
	}
	// The checkpoint is seq 1 and kept; records 0..dropped-1 are seqs 2..
	for k, want := range map[attribute.Key]string{
		spool.DroppedSeqs:      fmt.Sprintf("2-%d", dropped+1),
		spool.DroppedPositions: fmt.Sprintf("1:0-%d", dropped-1),
		spool.Origin:           "host/var/log/audit.log",
	} {
		if g := da[string(k)].AsString(); g != want {
			t.Errorf("drop record: %s = %q, want %q", k, g, want)
		}
	}
	if got[1].EventName() != psono.CheckpointEvent {
		t.Errorf("second record %q, want the checkpoint kept", got[1].EventName())
	}
	for i, r := range got[2:] {
		if idx := attrs(r)[string(psono.LogIndex)].AsInt64(); idx != dropped+int64(i) {
			t.Errorf("record %d sent has index %d, want %d", i, idx, dropped+int64(i))
		}
	}
	if len(got) != 2+n-int(dropped) {
		t.Errorf("%d records sent, want %d", len(got), 2+n-int(dropped))
	}
}

// dropCounter adds up what WithOnDrop is told.
type dropCounter struct {
	mu      sync.Mutex
	n       int64
	changed chan struct{}
}

func newDropCounter() *dropCounter { return &dropCounter{changed: make(chan struct{})} }

func (c *dropCounter) add(d spool.Drop) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n += d.Count
	close(c.changed)
	c.changed = make(chan struct{})
}

// wait waits until the counter reaches n.
func (c *dropCounter) wait(t testing.TB, n int64) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		c.mu.Lock()
		got, ch := c.n, c.changed
		c.mu.Unlock()
		if got == n {
			return
		}
		if got > n {
			t.Fatalf("WithOnDrop told of %d records, want %d", got, n)
		}
		select {
		case <-ch:
		case <-timeout:
			t.Fatalf("WithOnDrop told of %d records, want %d", got, n)
		}
	}
}

// TestShutdownKeeps: Shutdown with the exporter down loses nothing and
// OnEmit after it is refused.
func TestShutdownKeeps(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spool")
	s := open(t, path, newFlaky(), spool.WithShutdownTimeout(time.Millisecond))
	lp := emitter(s, resource.Empty())
	emit(t, lp, 0, false)
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := sdklog.Record{}
	if err := s.OnEmit(context.Background(), &r); !errors.Is(err, spool.ErrClosed) {
		t.Fatalf("OnEmit after Shutdown: %v", err)
	}
	s2 := open(t, path, newFlaky(), spool.WithShutdownTimeout(time.Millisecond))
	defer s2.Shutdown(context.Background())
	if s2.Pending() != 1 {
		t.Fatalf("pending %d after a restart, want 1", s2.Pending())
	}
}

// TestLocked: a spool another process (or Spool) has open is an error
// after the open timeout, not a hang or a second writer.
func TestLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spool")
	s := open(t, path, &sdklogtest.Recorder{})
	defer s.Shutdown(context.Background())
	if _, err := spool.Open(path, &sdklogtest.Recorder{}, spool.WithOpenTimeout(50*time.Millisecond)); err == nil {
		t.Fatal("a second Open of a spool in use succeeded")
	}
}

// TestOpenRefusesLinks: a symbolic link or a FIFO at the spool's path is
// refused at once; nothing is created through the link.
func TestOpenRefusesLinks(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "elsewhere")
	link := filepath.Join(dir, "audit.spool")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if _, err := spool.Open(link, &sdklogtest.Recorder{}); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("Open through a link: %v; want it refused", err)
	}
	if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the link's target was created: %v", err)
	}
	fifo := filepath.Join(dir, "fifo.spool")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	if _, err := spool.Open(fifo, &sdklogtest.Recorder{}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("Open of a FIFO: %v; want it refused", err)
	}
}

// TestShutdownWhileEmitting: OnEmit racing Shutdown either stores its
// record (and the next Open has it) or returns ErrClosed; nothing panics.
func TestShutdownWhileEmitting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spool")
	s := open(t, path, newFlaky(), spool.WithShutdownTimeout(time.Millisecond))
	rec := &sdklogtest.Recorder{}
	emit(t, emitter(rec, resource.Empty()), 1, true)
	r := rec.Records()[0]
	var stored atomic.Int64
	var wg sync.WaitGroup
	started := make(chan struct{})
	for i := range 8 {
		wg.Go(func() {
			for j := 0; ; j++ {
				if i == 0 && j == 10 {
					close(started)
				}
				r := r.Clone()
				err := s.OnEmit(context.Background(), &r)
				if errors.Is(err, spool.ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				stored.Add(1)
			}
		})
	}
	<-started
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	s2 := open(t, path, newFlaky(), spool.WithShutdownTimeout(time.Millisecond))
	defer s2.Shutdown(context.Background())
	if s2.Pending() != stored.Load() {
		t.Fatalf("pending %d after a restart, want the %d records OnEmit took", s2.Pending(), stored.Load())
	}
}
