package forward_test

import (
	"context"
	"testing"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/forward"
	"github.com/otelaudit/otelaudit/sdklogtest"
)

// TestValidUTF8Deep: invalid UTF-8 inside a map body (the OCSF schema's
// event), a slice and a string slice is replaced as in a plain string, so
// that no record can fail its batch's export, and with the spool stall
// delivery for ever.
func TestValidUTF8Deep(t *testing.T) {
	bad := "a\xffb"
	var r log.Record
	r.SetEventName("X_SUCCESS")
	r.SetBody(attribute.MapValue(
		attribute.String("raw_data", bad),
		attribute.KeyValue{Key: attribute.Key("unmapped"), Value: attribute.MapValue(attribute.String("kwarg_"+bad, bad))},
		attribute.KeyValue{Key: "list", Value: attribute.SliceValue(attribute.StringValue(bad), attribute.IntValue(1))},
	))
	r.AddAttributes(attribute.StringSlice("names", []string{"ok", bad}))
	var got sdklog.Record
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(capture{&got}))
	lp.Logger("test").Emit(context.Background(), r)

	rec := &sdklogtest.Recorder{}
	if err := forward.ValidUTF8(rec).Export(context.Background(), []sdklog.Record{got}); err != nil {
		t.Fatal(err)
	}
	out := rec.Records()[0]
	var check func(v attribute.Value)
	check = func(v attribute.Value) {
		switch v.Type() {
		case attribute.STRING:
			if !utf8.ValidString(v.AsString()) {
				t.Errorf("invalid UTF-8 left: %q", v.AsString())
			}
		case attribute.STRINGSLICE:
			for _, s := range v.AsStringSlice() {
				check(attribute.StringValue(s))
			}
		case attribute.SLICE:
			for _, e := range v.AsSlice() {
				check(e)
			}
		case attribute.MAP:
			for _, kv := range v.AsMap() {
				check(attribute.StringValue(string(kv.Key)))
				check(kv.Value)
			}
		}
	}
	check(out.Body())
	out.WalkAttributes(func(kv attribute.KeyValue) bool { check(kv.Value); return true })
	raw := ""
	for _, kv := range out.Body().AsMap() {
		if kv.Key == "raw_data" {
			raw = kv.Value.AsString()
		}
	}
	if len(out.Body().AsMap()) != 3 || raw != "a\uFFFDb" {
		t.Errorf("body %v; want the map with U+FFFD in place of the bad byte", out.Body().String())
	}
}
