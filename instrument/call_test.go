package instrument_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/receipt"
	"github.com/otelaudit/otelaudit/sdklogtest"
)

// TestCalls: a call's record holds what CallInfo and the setters gave, by
// the rules of a request's record.
func TestCalls(t *testing.T) {
	headers := func(kv ...string) func(string) []string {
		return func(name string) []string {
			var v []string
			for i := 0; i+1 < len(kv); i += 2 {
				if http.CanonicalHeaderKey(kv[i]) == name {
					v = append(v, kv[i+1])
				}
			}
			return v
		}
	}
	tests := []struct {
		name  string
		opts  []instrument.Option
		set   func(ctx context.Context)
		info  instrument.CallInfo
		event string
		want  map[attribute.Key]attribute.Value
	}{
		{"defaults", nil, nil,
			instrument.CallInfo{Method: "POST", Path: "/a.B/C", Status: 200, Peer: "192.0.2.1:5000"},
			"REQUEST_SUCCESS", map[attribute.Key]attribute.Value{
				psono.Logger.Attr: attribute.StringValue(instrument.DefaultLogger), psono.UserIP.Attr: attribute.StringValue("192.0.2.1"),
				psono.ReqMethod.Attr: attribute.StringValue("POST"), psono.ReqURL.Attr: attribute.StringValue("/a.B/C"),
				psono.Success.Attr: attribute.BoolValue(true), psono.Status.Attr: attribute.IntValue(200),
				psono.Hostname.Attr: attribute.StringValue("h1"),
			}},
		{"info's event and logger, attributes", nil, nil,
			instrument.CallInfo{Status: 404, Peer: "[2001:db8::1]:1", Event: "a_b_error", Logger: "a.B",
				Attributes: []attribute.KeyValue{attribute.String("rpc.system.name", "grpc")}},
			"A_B_ERROR", map[attribute.Key]attribute.Value{
				psono.Logger.Attr: attribute.StringValue("a.B"), psono.UserIP.Attr: attribute.StringValue("2001:db8::1"),
				psono.Success.Attr: attribute.BoolValue(false), "rpc.system.name": attribute.StringValue("grpc"),
			}},
		{"setters win", nil, func(ctx context.Context) {
			instrument.SetEvent(ctx, "did_it_success")
			instrument.SetLogger(ctx, "jobs")
			instrument.SetUser(ctx, "alice", "7")
			instrument.AddKwarg(ctx, "n", "1")
			instrument.AddKwargValue(ctx, "n", 2)
		}, instrument.CallInfo{Status: 200, Event: "X_SUCCESS", Logger: "x"},
			"DID_IT_SUCCESS", map[attribute.Key]attribute.Value{
				psono.Logger.Attr: attribute.StringValue("jobs"), psono.User.Attr: attribute.StringValue("alice"),
				psono.UserID.Attr: attribute.StringValue("7"), psono.KwargAttr("n"): attribute.StringValue("2"),
			}},
		{"trusted header", []instrument.Option{instrument.WithTrustedIPHeader("x-real-ip")}, nil,
			instrument.CallInfo{Status: 200, Peer: "127.0.0.1:1", Header: headers("x-real-ip", "198.51.100.9")},
			"REQUEST_SUCCESS", map[attribute.Key]attribute.Value{psono.UserIP.Attr: attribute.StringValue("198.51.100.9")}},
		{"x-forwarded-for needs NUM_PROXIES", nil, nil,
			instrument.CallInfo{Status: 200, Peer: "127.0.0.1:1", Header: headers("x-forwarded-for", "198.51.100.9")},
			"REQUEST_SUCCESS", map[attribute.Key]attribute.Value{psono.UserIP.Attr: attribute.StringValue("127.0.0.1")}},
		{"x-forwarded-for", []instrument.Option{instrument.WithNumProxies(1)}, nil,
			instrument.CallInfo{Status: 200, Peer: "127.0.0.1:1", Header: headers("x-forwarded-for", "10.0.0.1, 198.51.100.9")},
			"REQUEST_SUCCESS", map[attribute.Key]attribute.Value{psono.UserIP.Attr: attribute.StringValue("198.51.100.9")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := &sdklogtest.Recorder{}
			lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(mem))
			calls := instrument.NewCalls(append([]instrument.Option{instrument.WithLoggerProvider(lp), instrument.WithHostName("h1")}, tt.opts...)...)
			ctx, call, err := calls.Start(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !instrument.InScope(ctx) {
				t.Fatal("Start's context holds no record")
			}
			if tt.set != nil {
				tt.set(ctx)
			}
			if err := call.End(tt.info); err != nil {
				t.Fatal(err)
			}
			if err := call.End(tt.info); err != nil {
				t.Fatal(err)
			}
			recs := mem.Records()
			if len(recs) != 1 {
				t.Fatalf("%d records, want 1 (End twice)", len(recs))
			}
			if recs[0].EventName() != tt.event {
				t.Errorf("event %q, want %q", recs[0].EventName(), tt.event)
			}
			got := attrs(recs[0])
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
		})
	}
}

// TestCallsStrict: in strict mode Start refuses while the health check
// fails, and the refusal's record carries UnavailableEvent; End returns
// the error of a write that failed.
func TestCallsStrict(t *testing.T) {
	var healthy, write error
	mem := &sdklogtest.Recorder{Hook: func(ctx context.Context, _ []sdklog.Record) error {
		receipt.FromContext(ctx).Set(write)
		return nil
	}}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(mem))
	calls := instrument.NewCalls(instrument.WithLoggerProvider(lp), instrument.WithStrict(func() error { return healthy }))

	healthy = errors.New("disk full")
	ctx, call, err := calls.Start(context.Background())
	if !errors.Is(err, healthy) {
		t.Fatalf("Start while unhealthy: %v", err)
	}
	instrument.SetEvent(ctx, "NOT_THIS")
	if err := call.End(instrument.CallInfo{Status: http.StatusServiceUnavailable, Event: "NOR_THIS"}); err != nil {
		t.Fatal(err)
	}
	if ev := mem.Records()[0].EventName(); ev != instrument.UnavailableEvent {
		t.Errorf("refusal's event %q", ev)
	}

	healthy, write = nil, errors.New("ENOSPC")
	_, call, err = calls.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := call.End(instrument.CallInfo{Status: 200}); !errors.Is(err, write) {
		t.Errorf("End after a failed write: %v", err)
	}
}

func TestCallEvent(t *testing.T) {
	for _, tt := range []struct {
		name    string
		success bool
		want    string
	}{
		{"/grpc.health.v1.Health/Check", true, "GRPC_HEALTH_V1_HEALTH_CHECK_SUCCESS"},
		{"/pkg.Svc/Do", false, "PKG_SVC_DO_ERROR"},
		{"--a..b--", true, "A_B_SUCCESS"},
		{"/", false, "REQUEST_ERROR"},
	} {
		if got := instrument.CallEvent(tt.name, tt.success); got != tt.want {
			t.Errorf("CallEvent(%q, %v) = %q, want %q", tt.name, tt.success, got, tt.want)
		}
	}
}
