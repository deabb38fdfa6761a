package otelaudit

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/internal/attremit"
)

// keeper is a stage that keeps a copy of every record.
type keeper struct {
	mu   sync.Mutex
	recs []sdklog.Record
}

func (k *keeper) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (k *keeper) OnEmit(_ context.Context, r *sdklog.Record) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.recs = append(k.recs, r.Clone())
	return nil
}
func (k *keeper) ForceFlush(context.Context) error { return nil }
func (k *keeper) Shutdown(context.Context) error   { return nil }

func (k *keeper) records() []sdklog.Record {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]sdklog.Record(nil), k.recs...)
}

func newKeeperAuditor(t *testing.T, whitelist ...string) (*Auditor, *keeper) {
	t.Helper()
	s := config.Default()
	s.Enabled, s.Folder, s.Whitelist = true, t.TempDir(), whitelist
	k := &keeper{}
	a, err := New(s, WithHostName("h"), WithServiceName("direct-test"), func(o *options) {
		o.stages = []stage{{name: "keeper", build: func(config.Settings, *env) (sdklog.Processor, error) { return k, nil }}}
	})
	if err != nil {
		t.Fatal(err)
	}
	return a, k
}

// describe renders everything a stage can read of r.
func describe(r sdklog.Record) string {
	s := fmt.Sprintf("event=%q time=%v observed=%v severity=%v/%q body=%v trace=%v span=%v flags=%v dropped=%d scope=%+v resource=%p:%v attrs=",
		r.EventName(), r.Timestamp().UnixNano(), r.ObservedTimestamp().UnixNano(), r.Severity(), r.SeverityText(),
		r.Body().String(), r.TraceID(), r.SpanID(), r.TraceFlags(), r.DroppedAttributes(),
		r.InstrumentationScope(), r.Resource(), r.Resource().Attributes())
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		s += fmt.Sprintf("%s=%s;", kv.Key, kv.Value.String())
		return true
	})
	return s
}

// TestDirectRecordIsTheSDKs: the middleware's logger (the direct path)
// makes the record the provider's own logger makes, field for field:
// resource, scope, trace context, time, severity, event, body and every
// attribute, in order.
func TestDirectRecordIsTheSDKs(t *testing.T) {
	a, k := newKeeperAuditor(t)
	defer a.Shutdown(context.Background())

	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4, 5}, TraceFlags: trace.FlagsSampled})
	ctx := trace.ContextWithSpanContext(context.Background(), sc)
	var r log.Record
	now := time.Now()
	r.SetTimestamp(now)
	r.SetObservedTimestamp(now.Add(time.Millisecond))
	r.SetSeverity(log.SeverityWarn)
	r.SetSeverityText("WARN")
	r.SetEventName("GET_INFO_ERROR")
	r.SetBody(attribute.StringValue("body"))
	for i := range 14 { // more than the API and the SDK keep inline
		r.AddAttributes(attribute.Int(fmt.Sprintf("k%02d", i), i))
	}
	direct := a.direct.Logger(instrument.ScopeName)
	if _, ok := direct.(*directLogger); !ok {
		t.Fatalf("the middleware's logger is a %T, want the direct one", direct)
	}
	direct.Emit(ctx, r)
	a.provider.Logger(instrument.ScopeName).Emit(ctx, r)

	// The middleware's way in: the fields and attributes as they are.
	var attrs []attribute.KeyValue
	r.WalkAttributes(func(kv attribute.KeyValue) bool { attrs = append(attrs, kv); return true })
	direct.(attremit.Emitter).EmitAttributes(ctx, now, log.SeverityWarn, "WARN", "GET_INFO_ERROR", attrs)
	r.SetObservedTimestamp(now)
	r.SetBody(attribute.Value{})
	a.provider.Logger(instrument.ScopeName).Emit(ctx, r)

	recs := k.records()
	if len(recs) != 4 {
		t.Fatalf("%d records, want 4", len(recs))
	}
	if d, s := describe(recs[0]), describe(recs[1]); d != s {
		t.Errorf("direct path:\n%s\nthe SDK's:\n%s", d, s)
	}
	if d, s := describe(recs[2]), describe(recs[3]); d != s {
		t.Errorf("EmitAttributes:\n%s\nthe SDK's:\n%s", d, s)
	}
	if recs[0].Resource().Len() == 0 || recs[0].InstrumentationScope().Name != instrument.ScopeName {
		t.Errorf("the record has no resource or the wrong scope: %s", describe(recs[0]))
	}
}

// TestDirectEnabled: the direct logger asks the event filter, and after
// Shutdown the records take the SDK's path (and are dropped there).
func TestDirectEnabled(t *testing.T) {
	a, k := newKeeperAuditor(t, "KEEP_*")
	l := a.direct.Logger(instrument.ScopeName)
	ctx := context.Background()
	if !l.Enabled(ctx, log.EnabledParameters{EventName: "KEEP_A"}) || l.Enabled(ctx, log.EnabledParameters{EventName: "DROP_B"}) {
		t.Error("the direct logger does not follow the whitelist")
	}
	if err := a.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if l.Enabled(ctx, log.EnabledParameters{EventName: "KEEP_A"}) {
		t.Error("enabled after Shutdown")
	}
	var r log.Record
	r.SetEventName("KEEP_LATE")
	l.Emit(ctx, r)
	l.(attremit.Emitter).EmitAttributes(ctx, time.Now(), log.SeverityInfo, "INFO", "KEEP_LATE", nil)
	if n := len(k.records()); n != 0 {
		t.Errorf("%d records reached the stage after Shutdown, want 0", n)
	}
}

// TestDirectShutdownRace: records emitted on the direct path while Shutdown
// runs do not race with it (run with -race): close waits for those in
// flight, and later ones take the SDK's path.
func TestDirectShutdownRace(t *testing.T) {
	a, _ := newKeeperAuditor(t)
	l := a.direct.Logger(instrument.ScopeName)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				var r log.Record
				r.SetEventName("E")
				l.Emit(context.Background(), r)
			}
		})
	}
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
}
