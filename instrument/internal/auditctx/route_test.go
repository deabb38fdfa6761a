package auditctx

import (
	"fmt"
	"net/http/httptest"
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
	t.Cleanup(func() { templates.Clear(); templateCount.Store(0) })
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

// TestRouteMux: the single-pattern ServeMux of a route is built once, in
// the one route cache, and sets the pattern and path values as the
// pattern's own mux does.
func TestRouteMux(t *testing.T) {
	info := Lookup("", "GET /mux/{id}/{rest...}", true)
	if Lookup("", "GET /mux/{id}/{rest...}", true).Mux() != info.Mux() {
		t.Fatal("a route's mux was built twice")
	}
	r := httptest.NewRequest("GET", "/mux/a%20b/c/d", nil)
	info.Mux().ServeHTTP(httptest.NewRecorder(), r)
	if r.Pattern != "GET /mux/{id}/{rest...}" || r.PathValue("id") != "a b" || r.PathValue("rest") != "c/d" {
		t.Errorf("pattern %q id %q rest %q", r.Pattern, r.PathValue("id"), r.PathValue("rest"))
	}
}
