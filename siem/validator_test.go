package siem_test

import (
	"strings"
	"testing"

	"github.com/otelaudit/otelaudit/internal/seed"
	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/siem"
)

// TestValidatorCatches checks that the validator refuses events and
// documents that break the schemas, so that its silence on the mapping's
// output means something.
func TestValidatorCatches(t *testing.T) {
	l, _ := psono.Parse(seed.Lines[5]) // LIST_DATASTORE_SUCCESS with a kwarg
	login, _ := psono.Parse(seed.Lines[1])
	ocsfCases := []struct {
		name   string
		line   psono.Line
		break_ func(e map[string]any)
		want   string
	}{
		{"missing required", l, func(e map[string]any) { delete(e, "api") }, "api is required"},
		{"nested required", l, func(e map[string]any) { delete(e["api"].(map[string]any), "operation") }, "api.operation is required"},
		{"unknown attribute", l, func(e map[string]any) { e["kwarg_datastore_id"] = "x" }, "kwarg_datastore_id is not an attribute"},
		{"type_uid", l, func(e map[string]any) { e["type_uid"] = 600301 }, "type_uid 600301 is not class_uid"},
		{"class not in category", l, func(e map[string]any) { e["category_uid"] = 3 }, "category_uid 3, want 6"},
		{"enum", l, func(e map[string]any) { e["activity_id"] = 7; e["type_uid"] = 600307 }, "activity_id = 7 is not one of its enum values"},
		{"ip_t", l, func(e map[string]any) { e["src_endpoint"] = map[string]any{"ip": "10.0.0.256"} }, "not a valid ip_t"},
		{"integer", l, func(e map[string]any) { e["http_response"] = map[string]any{"code": "200"} }, "want an integer"},
		{"timestamp", l, func(e map[string]any) { e["time"] = 1590306937 }, "not epoch milliseconds"},
		{"at_least_one", l, func(e map[string]any) { e["src_endpoint"] = map[string]any{"port": 1} }, "needs at least one of"},
		{"profile not listed", l, func(e map[string]any) { e["trace"] = map[string]any{"uid": "x"} }, "belongs to the trace profile"},
		{"sibling caption", l, func(e map[string]any) { e["activity_name"] = "Create" }, `activity_name is "Create", want "Read"`},
		{"auth without user", login, func(e map[string]any) { delete(e, "user") }, "user is required by authentication"},
		{"auth trace", login, func(e map[string]any) {
			e["trace"] = map[string]any{"uid": "x"}
		}, "trace is not an attribute of authentication"},
		{"http_method enum", l, func(e map[string]any) {
			e["http_request"].(map[string]any)["http_method"] = "get"
		}, "http_request.http_method = get is not one of"},
	}
	for _, c := range ocsfCases {
		e, err := siem.OCSF(siem.Record{Line: c.line})
		if err != nil {
			t.Fatal(err)
		}
		if p := validateOCSF(t, e); len(p) > 0 {
			t.Fatalf("%s: the unbroken event is refused: %v", c.name, p)
		}
		c.break_(e)
		if p := validateOCSF(t, e); !contains(p, c.want) {
			t.Errorf("OCSF %s: problems %q, want one containing %q", c.name, p, c.want)
		}
	}
	ecsCases := []struct {
		name   string
		break_ func(d map[string]any)
		want   string
	}{
		{"unknown field", func(d map[string]any) { d["user"].(map[string]any)["uid"] = "x" }, "user.uid is not a field of ECS 9.4.0"},
		{"array", func(d map[string]any) { d["event"].(map[string]any)["category"] = "api" }, "ECS normalizes it to an array"},
		{"not array", func(d map[string]any) { d["event"].(map[string]any)["kind"] = []string{"event"} }, "ECS keeps it a single value"},
		{"allowed", func(d map[string]any) { d["event"].(map[string]any)["outcome"] = "ok" }, "not one of its allowed values"},
		{"expected type", func(d map[string]any) {
			d["event"].(map[string]any)["type"] = []string{"creation"}
			d["event"].(map[string]any)["category"] = []string{"authentication"}
		}, "not expected with event.category"},
		{"ip", func(d map[string]any) { d["source"] = map[string]any{"ip": "fe80::1%eth0"} }, "not an IP address"},
		{"long", func(d map[string]any) { d["http"].(map[string]any)["response"] = map[string]any{"status_code": "200"} }, "want an integer"},
		{"date", func(d map[string]any) { d["@timestamp"] = "2020-05-24T07:55:37.720973" }, "not RFC 3339 with a zone"},
		{"custom", func(d map[string]any) { d["psono"].(map[string]any)["kwarg"].(map[string]any)["n"] = 1 }, "(custom) is"},
	}
	for _, c := range ecsCases {
		d, err := siem.ECS(siem.Record{Line: l})
		if err != nil {
			t.Fatal(err)
		}
		if p := validateECS(t, d); len(p) > 0 {
			t.Fatalf("%s: the unbroken document is refused: %v", c.name, p)
		}
		c.break_(d)
		if p := validateECS(t, d); !contains(p, c.want) {
			t.Errorf("ECS %s: problems %q, want one containing %q", c.name, p, c.want)
		}
	}
}

func contains(problems []string, s string) bool {
	for _, p := range problems {
		if strings.Contains(p, s) {
			return true
		}
	}
	return false
}
