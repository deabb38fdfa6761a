package route_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/instrument/route"
	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/sdklogtest"
)

func TestParamNames(t *testing.T) {
	if got, want := route.ParamNames("/re/{id:[0-9]+}/{rest:.*}/:x/*"), []string{"id", "rest", "x", "path"}; !slices.Equal(got, want) {
		t.Errorf("ParamNames = %q, want %q", got, want)
	}
	for name, want := range map[string]string{"id:[0-9]+": "id", ":id": "id", "*filepath": "filepath", "*": "path", "rest...": "rest"} {
		if got := route.ParamName(name); got != want {
			t.Errorf("ParamName(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestSetAndCarry: a route Set reports reaches the record (its event and
// kwargs), a record Carry hands over under ScopeKey is the one the setters
// use, and Set without a record is reported as route.Set's misuse.
func TestSetAndCarry(t *testing.T) {
	var reports []string
	instrument.SetMisuseReporter(func(err error) { reports = append(reports, err.Error()) })
	t.Cleanup(func() { instrument.SetMisuseReporter(nil) })
	route.Set(context.Background(), "GET", "/x/{id}")
	if len(reports) != 1 || !strings.Contains(reports[0], "route.Set called at") {
		t.Errorf("misuse reports = %q", reports)
	}
	carried := 0
	route.Carry(context.Background(), func(any, any) { carried++ })
	if carried != 0 {
		t.Error("Carry without a record called set")
	}

	rec := &sdklogtest.Recorder{}
	h := instrument.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keys := map[any]any{}
		route.Carry(r.Context(), func(k, v any) { keys[k] = v })
		if len(keys) != 1 || keys[route.ScopeKey] == nil {
			t.Errorf("Carry set %v", keys)
		}
		route.Set(r.Context(), "GET", "/items/{id:[0-9]+}/", route.Param{Name: "id:[0-9]+", Value: "7"})
		route.Set(r.Context(), "GET", "/later/") // only the first report counts
	}), instrument.WithLoggerProvider(sdklog.NewLoggerProvider(sdklog.WithProcessor(rec))))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/items/7/", nil))

	recs := rec.Records()
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	if got := recs[0].EventName(); got != "GET_ITEMS_ID_SUCCESS" {
		t.Errorf("event = %s", got)
	}
	found := false
	recs[0].WalkAttributes(func(kv attribute.KeyValue) bool {
		if kv.Key == psono.KwargAttr("id") && kv.Value.AsString() == "7" {
			found = true
		}
		return true
	})
	if !found {
		t.Error("no kwarg_id=7")
	}
}
