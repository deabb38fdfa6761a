package instrument

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// FuzzMuxRedirected checks muxRedirected against what ServeMux did: for
// any method and request path, when ServeMux set a pattern, muxRedirected
// reports true exactly when the pattern's handler did not run.
func FuzzMuxRedirected(f *testing.F) {
	for _, target := range []string{
		"/datastore/X", "/datastore/X/", "/datastore/a/../X/", "/datastore//X/", "/share/a%20b",
		"/share/a%2Fb", "/share/abc/", "/files", "/files/a/b", "/rest", "/rest/", "/rest/a/b", "/exact/7",
		"/exact/7/", "/exact/7/x", "/plain/7", "/plain/7/", "/./plain/7", "/", "", "/a b/../",
		"/deep/1/2/3", "/deep/1/2/3/", "/deep/1/../2/3/4/", "/share/.", "/share/..", "/two/evil/.", "/two/evil/x", "http://example.com/host/1", "http://example.com/host/1/",
	} {
		for _, method := range []string{"GET", "CONNECT", "POST"} {
			f.Add(method, target)
		}
	}
	var ran bool
	mark := func(http.ResponseWriter, *http.Request) { ran = true }
	mux := http.NewServeMux()
	for _, p := range []string{
		"GET /datastore/{datastore_id}/", "/share/{share_id}/", "GET /exact/{id}/{$}", "GET /files/",
		"GET /rest/{path...}", "GET /plain/{id}", "POST /deep/{a}/{b}/{c}/", "example.com/host/{x}", "/two/{a}/{b}/",
	} {
		mux.HandleFunc(p, mark)
	}
	f.Fuzz(func(t *testing.T, method, target string) {
		if method != "GET" && method != "CONNECT" && method != "POST" {
			return
		}
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		r := httptest.NewRequest(method, "/", nil)
		r.URL = u
		ran = false
		mux.ServeHTTP(httptest.NewRecorder(), r)
		if r.Pattern == "" {
			return
		}
		if got := muxRedirected(r); got != !ran {
			t.Errorf("%s %q: ServeMux set pattern %q and ran its handler: %v; muxRedirected = %v",
				method, target, r.Pattern, ran, got)
		}
	})
}
