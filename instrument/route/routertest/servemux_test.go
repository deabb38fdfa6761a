package routertest_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/otelaudit/otelaudit"
	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/instrument/route/routertest"
)

// TestServeMuxAuthBeforeRouting: authentication wrapped around a ServeMux
// answers before the mux runs, so neither the audit handler nor
// instrument.Routes sees a pattern: without more, the documented limit
// (REQUEST_ERROR, no kwargs). instrument.RoutesOf gives the route, as the
// router adapters do.
func TestServeMuxAuthBeforeRouting(t *testing.T) {
	std := routertest.Standard("GET_FILES_PATH_SUCCESS", "path", "a/b.txt")
	auth := routertest.AuthBeforeRouting("GET_FILES_PATH_SUCCESS", "path", "a/b.txt")
	tests := []struct {
		name  string
		wire  func(a *otelaudit.Auditor) http.Handler
		cases []routertest.Case
	}{
		{"limit: authentication around the mux", func(a *otelaudit.Auditor) http.Handler {
			return a.Handler(routertest.Deny(instrument.Routes(routertest.ServeMux())))
		}, routertest.Unrouted(auth, "authentication wrapped around a ServeMux answers before the mux runs; "+
			"the core needs instrument.RoutesOf(mux, authenticate(...)) to resolve the route (proposed)")},
		{"proposed RoutesOf", func(a *otelaudit.Auditor) http.Handler {
			mux := routertest.ServeMux()
			return a.Handler(instrument.RoutesOf(mux, routertest.Deny(instrument.Routes(mux))))
		}, append(std, auth...)},
		{"proposed RoutesOf, without Routes", func(a *otelaudit.Auditor) http.Handler {
			mux := routertest.ServeMux()
			return a.Handler(instrument.RoutesOf(mux, routertest.Deny(mux)))
		}, append(std, auth...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { routertest.Run(t, tt.wire, tt.cases) })
	}
}

// TestInvalidEscapeOnTheWire: a request line whose path is not valid
// percent-encoding never reaches a handler: net/http's server answers 400
// by itself, so no router sees it and audit.log gets no line (the reason
// routertest's "invalid escape" case is served in process).
func TestInvalidEscapeOnTheWire(t *testing.T) {
	dir := t.TempDir()
	s := config.Default()
	s.Enabled, s.Folder = true, dir
	a, err := otelaudit.New(s, otelaudit.WithHostName("router-test"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler(routertest.ServeMux()))
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET /items/a%%zz/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	conn.Close()
	srv.Close()
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status %d, want 400", resp.StatusCode)
	}
	data, err := os.ReadFile(filepath.Join(dir, "audit.log"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if len(data) != 0 {
		t.Errorf("audit.log: %s", data)
	}
}
