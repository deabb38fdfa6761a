package siem_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/otelaudit/otelaudit/internal/seed"
	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/siem"
)

func line(method, status, success, event string) psono.Line {
	return psono.Line{Time: "2020-05-24T07:55:37.720973", Pairs: []psono.Pair{
		{Key: "logger", Value: "restapi.views.x"}, {Key: "user_ip", Value: "10.10.10.145"},
		{Key: "req_method", Value: method}, {Key: "req_url", Value: "/x/"}, {Key: "success", Value: success},
		{Key: "hostname", Value: "h"}, {Key: "status", Value: status}, {Key: "event", Value: event},
	}}
}

// TestClassification checks the class, activity, type_uid and status of the
// OCSF events and the category, type and outcome of the ECS documents.
func TestClassification(t *testing.T) {
	tests := []struct {
		method, status, success, event string
		class, activity, typeUID       int
		statusID                       int
		category, types, outcome       string
	}{
		{"GET", "HTTP_200_OK", "True", "READ_INFO_SUCCESS", 6003, 2, 600302, 1, "api", "access", "success"},
		{"HEAD", "HTTP_200_OK", "True", "READ_INFO_SUCCESS", 6003, 2, 600302, 1, "api", "access", "success"},
		{"POST", "HTTP_201_CREATED", "True", "CREATE_DATASTORE_SUCCESS", 6003, 1, 600301, 1, "api", "creation", "success"},
		{"PUT", "HTTP_200_OK", "True", "UPDATE_X_SUCCESS", 6003, 3, 600303, 1, "api", "change", "success"},
		{"PATCH", "HTTP_200_OK", "True", "UPDATE_X_SUCCESS", 6003, 3, 600303, 1, "api", "change", "success"},
		{"DELETE", "HTTP_403_FORBIDDEN", "False", "DELETE_X_ERROR", 6003, 4, 600304, 2, "api", "deletion denied", "failure"},
		{"GET", "HTTP_401_UNAUTHORIZED", "False", "READ_STATUS_ERROR", 6003, 2, 600302, 2, "api", "access denied", "failure"},
		{"OPTIONS", "HTTP_405_METHOD_NOT_ALLOWED", "False", "REQUEST_ERROR", 6003, 99, 600399, 2, "api", "info", "failure"},
		{"POST", "HTTP_200_OK", "True", "LOGIN_STARTED_SUCCESS", 3002, 1, 300201, 1, "authentication", "start", "success"},
		{"POST", "HTTP_400_BAD_REQUEST", "False", "LOGIN_STARTED_ERROR", 3002, 1, 300201, 2, "authentication", "start", "failure"},
		{"POST", "HTTP_200_OK", "True", "LOGOUT_SUCCESS", 3002, 2, 300202, 1, "authentication", "end", "success"},
		{"GET", "None", "None", "INVALID_REQUEST", 6003, 2, 600302, 0, "api", "access", "unknown"},
	}
	for _, tt := range tests {
		name := tt.method + " " + tt.event + " " + tt.status
		r := siem.Record{Line: line(tt.method, tt.status, tt.success, tt.event)}
		e, err := siem.OCSF(r)
		if err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprint(e["class_uid"], e["activity_id"], e["type_uid"], e["status_id"], e["severity_id"])
		if want := fmt.Sprint(tt.class, tt.activity, tt.typeUID, tt.statusID, 1); got != want {
			t.Errorf("%s: OCSF class, activity, type_uid, status_id, severity_id = %s, want %s", name, got, want)
		}
		d, err := siem.ECS(r)
		if err != nil {
			t.Fatal(err)
		}
		ev := d["event"].(map[string]any)
		got = fmt.Sprint(strings.Join(ev["category"].([]string), " "), "/", strings.Join(ev["type"].([]string), " "), "/", ev["outcome"])
		if want := fmt.Sprint(tt.category, "/", tt.types, "/", tt.outcome); got != want {
			t.Errorf("%s: ECS category/type/outcome = %s, want %s", name, got, want)
		}
	}
}

// TestOperation checks api.operation: the event without its outcome.
func TestOperation(t *testing.T) {
	for event, want := range map[string]string{
		"LIST_DATASTORE_SUCCESS":                 "LIST_DATASTORE",
		"LIST_DATASTORE_PERMISSION_DENIED_ERROR": "LIST_DATASTORE_PERMISSION_DENIED",
		"CHECK_HEALTH_FAILURE":                   "CHECK_HEALTH",
		"INVALID_REQUEST":                        "INVALID_REQUEST",
		"_SUCCESS":                               "_SUCCESS",
	} {
		e, err := siem.OCSF(siem.Record{Line: line("GET", "HTTP_200_OK", "True", event)})
		if err != nil {
			t.Fatal(err)
		}
		if got := e["api"].(map[string]any)["operation"]; got != want {
			t.Errorf("%s: api.operation = %v, want %s", event, got, want)
		}
	}
}

// TestNotRecord checks the errors for lines that are not audit records.
func TestNotRecord(t *testing.T) {
	good, _ := psono.Parse(seed.Lines[0])
	tests := []struct {
		name string
		line psono.Line
		want string
	}{
		{"bad time", psono.Line{Time: "yesterday", Pairs: good.Pairs}, "does not start with a time"},
		{"no event", psono.Line{Time: good.Time, Pairs: good.Pairs[:7]}, "has no event"},
		{"unknown field", psono.Line{Time: good.Time, Pairs: append(good.Pairs[:8:8], psono.Pair{Key: "extra", Value: "x"})}, `unexpected field "extra"`},
	}
	for _, tt := range tests {
		for schema, fn := range map[string]func(siem.Record) (map[string]any, error){"OCSF": siem.OCSF, "ECS": siem.ECS} {
			_, err := fn(siem.Record{Line: tt.line})
			if !errors.Is(err, siem.ErrRecord) || !strings.Contains(fmt.Sprint(err), tt.want) {
				t.Errorf("%s %s: error %v, want ErrRecord saying %q", schema, tt.name, err, tt.want)
			}
		}
	}
}

// ExampleOCSF shows the OCSF event of a line of Psono's documentation.
func ExampleOCSF() {
	l, _ := psono.Parse(seed.Lines[5])
	e, _ := siem.OCSF(siem.Record{Line: l, Position: &siem.Position{Tree: 1, Index: 5}})
	fmt.Println(e["class_uid"], e["type_uid"], e["status_id"], e["api"], e["unmapped"])
	// Output: 6003 600302 1 map[operation:LIST_DATASTORE service:map[name:restapi.views.datastore]] map[kwarg_datastore_id:bed4572d-6a28-4c00-94c2-dd45322de1d0]
}
