package auditctx

import (
	"fmt"
	"testing"
)

func TestParsePattern(t *testing.T) {
	tests := []struct {
		pattern, event string
		wildcards      []string
	}{
		{"GET /datastore/{datastore_id}/", "GET_DATASTORE_DATASTORE_ID", []string{"datastore_id"}},
		{"/info/", "INFO", nil},
		{"/", "ROOT", nil},
		{"GET /", "GET_ROOT", nil},
		{"POST example.com/authentication/activate-token/", "POST_AUTHENTICATION_ACTIVATE_TOKEN", nil},
		{"GET /files/{path...}", "GET_FILES_PATH", []string{"path"}},
		{"GET /a/{x}/b/{y}/{$}", "GET_A_X_B_Y", []string{"x", "y"}},
	}
	for _, tt := range tests {
		info := ParsePattern(tt.pattern)
		if info.Event != tt.event || len(info.Wildcards) != len(tt.wildcards) {
			t.Errorf("ParsePattern(%q) = %s %v, want %s %v", tt.pattern, info.Event, info.Wildcards, tt.event, tt.wildcards)
			continue
		}
		for i := range tt.wildcards {
			if info.Wildcards[i] != tt.wildcards[i] {
				t.Errorf("ParsePattern(%q) wildcards = %v, want %v", tt.pattern, info.Wildcards, tt.wildcards)
			}
		}
	}
}

// TestRouteCacheBounded: the one route cache stops growing at maxTemplates;
// a route past it is derived anew, with the same result.
func TestRouteCacheBounded(t *testing.T) {
	for i := 0; i < maxTemplates+100; i++ {
		Lookup("GET", fmt.Sprintf("/bounded/%d/{id}", i), false)
	}
	if n := templateCount.Load(); n > maxTemplates {
		t.Fatalf("%d routes cached, want at most %d", n, maxTemplates)
	}
	info := Lookup("GET", "/bounded/past/{id}", false)
	if info.Event != "GET_BOUNDED_PAST_ID" || len(info.Wildcards) != 1 {
		t.Fatalf("a route past the bound: %+v", info)
	}
}
