package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/internal/seed"
	"github.com/otelaudit/otelaudit/psono"
)

// serve runs the demo with -router name until the returned stop is called;
// it returns the base URL and the audit.log path.
func serve(t *testing.T, name, settings string) (base, logPath string, stop func()) {
	t.Helper()
	dir := t.TempDir()
	settingsPath := filepath.Join(dir, "settings.yaml")
	text := "LOGGING_AUDIT: True\nLOGGING_AUDIT_FOLDER: " + filepath.Join(dir, "log") + "\n" + settings
	if err := os.WriteFile(settingsPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-router", name, "-settings", settingsPath, "-listen", "127.0.0.1:0"}, io.Discard, ready)
	}()
	select {
	case addr := <-ready:
		base = "http://" + addr
	case err := <-done:
		cancel()
		t.Fatalf("-router %s did not start: %v", name, err)
	}
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				t.Errorf("shutdown: %v", err)
			}
		}
	}
	t.Cleanup(stop)
	return base, filepath.Join(dir, "log", "audit.log"), stop
}

type client struct {
	t               *testing.T
	base, token, xf string
}

func (c *client) do(method, path string, body any) (int, map[string]any) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if c.token != "" {
		req.Header.Set("Authorization", "Token "+c.token)
	}
	if c.xf != "" {
		req.Header.Set("X-Forwarded-For", c.xf)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func lines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

var routerNames = []string{"servemux", "chi", "gorilla", "gin", "echo"}

// TestSeedSession replays the session of Psono's audit-log documentation
// through each router: the nine seed lines, but time, host name and token id.
func TestSeedSession(t *testing.T) {
	for _, name := range routerNames {
		t.Run(name, func(t *testing.T) {
			base, logPath, stop := serve(t, name, "NUM_PROXIES: 1\n")
			c := &client{t: t, base: base, xf: "10.10.10.145"}
			var tokenID string
			for _, s := range []struct {
				method, path string
				body         any
			}{
				{"GET", "/info/", nil},
				{"POST", "/authentication/login/", map[string]string{"username": "demo2@example.com", "password": "demo2"}},
				{"POST", "/authentication/activate-token/", nil},
				{"GET", "/user/status/", nil},
				{"GET", "/datastore/", nil},
				{"GET", "/datastore/bed4572d-6a28-4c00-94c2-dd45322de1d0/", nil},
				{"GET", "/share/right/", nil},
				{"GET", "/share/de10070a-e836-4fb7-838c-89a85486c7c5/", nil},
			} {
				code, out := c.do(s.method, s.path, s.body)
				if code != http.StatusOK {
					t.Fatalf("%s %s = %d", s.method, s.path, code)
				}
				if tok, ok := out["token"].(string); ok {
					c.token, tokenID = tok, out["token_id"].(string)
				}
			}
			c.xf, c.token = "", ""
			if code, _ := c.do("GET", "/healthcheck/", nil); code != http.StatusOK {
				t.Fatalf("healthcheck = %d", code)
			}
			stop()
			got := lines(t, logPath)
			if len(got) != len(seed.Lines) {
				t.Fatalf("%d lines, want %d:\n%s", len(got), len(seed.Lines), strings.Join(got, "\n"))
			}
			for i, line := range got {
				g, err := psono.Parse(line)
				if err != nil {
					t.Fatal(err)
				}
				w, _ := psono.Parse(seed.Lines[i])
				w.Time = g.Time
				for j := range w.Pairs {
					switch w.Pairs[j].Key {
					case "hostname":
						w.Pairs[j].Value = instrument.FQDN()
					case "kwarg_token_id":
						w.Pairs[j].Value = tokenID
					}
				}
				if want := w.String(); line != want {
					t.Errorf("line %d:\n got %s\nwant %s", i+1, line, want)
				}
			}
		})
	}
}

// TestRefusals: a bad token (401), someone else's datastore (403), an
// unknown path (404) and a wrong method are recorded, through each router,
// with the status the client got.
func TestRefusals(t *testing.T) {
	for _, name := range routerNames {
		t.Run(name, func(t *testing.T) {
			base, logPath, stop := serve(t, name, "")
			c := &client{t: t, base: base}
			_, out := c.do("POST", "/authentication/login/", map[string]string{"username": "demo1@example.com", "password": "demo1"})
			c.token = out["token"].(string)
			c.do("POST", "/authentication/activate-token/", nil)
			want := []struct {
				method, path, token string
				status              int
				event               string
				kwarg               string
			}{
				{"GET", "/datastore/", "bogus", 401, "LIST_ALL_DATASTORES_ERROR", ""},
				{"GET", "/datastore/bed4572d-6a28-4c00-94c2-dd45322de1d0/", c.token, 403, "LIST_DATASTORE_PERMISSION_DENIED_ERROR", "bed4572d-6a28-4c00-94c2-dd45322de1d0"},
				{"GET", "/no/such/route", "", 404, "REQUEST_ERROR", ""},
				{"DELETE", "/info/", "", 405, "REQUEST_ERROR", ""},
			}
			for _, w := range want {
				c.token = w.token
				if code, _ := c.do(w.method, w.path, nil); code != w.status {
					t.Errorf("%s %s = %d, want %d", w.method, w.path, code, w.status)
				}
			}
			stop()
			got := lines(t, logPath)[2:]
			if len(got) != len(want) {
				t.Fatalf("%d lines, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
			}
			for i, w := range want {
				l, err := psono.Parse(got[i])
				if err != nil {
					t.Fatal(err)
				}
				ev, _ := l.Get("event")
				st, _ := l.Get("status")
				kw, _ := l.Get("kwarg_datastore_id")
				if ev != w.event || st != psono.StatusName(w.status) || kw != w.kwarg {
					t.Errorf("line %s\nwant event %s, status %s, kwarg_datastore_id %q", got[i], w.event, psono.StatusName(w.status), w.kwarg)
				}
			}
		})
	}
}

// TestUnknownRouter: -router names a router this command does not have.
func TestUnknownRouter(t *testing.T) {
	err := run(context.Background(), []string{"-router", "martini"}, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "martini") {
		t.Fatalf("run = %v", err)
	}
}
