package main

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/internal/demo/demotest"
	"github.com/otelaudit/otelaudit/internal/seed"
	"github.com/otelaudit/otelaudit/psono"
)

// serve runs the demo with -router name until the returned stop is called;
// it returns the base URL and the audit.log path.
func serve(t *testing.T, name, settings string) (base, logPath string, stop func()) {
	t.Helper()
	base, logPath, stopRun := demotest.Start(t, run, settings, "-router", name)
	return base, logPath, func() {
		if err := stopRun(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}
}

var routerNames = []string{"servemux", "chi", "gorilla", "gin", "echo"}

// TestSeedSession replays the session of Psono's audit-log documentation
// through each router: the nine seed lines, but time, host name and token id.
func TestSeedSession(t *testing.T) {
	for _, name := range routerNames {
		t.Run(name, func(t *testing.T) {
			base, logPath, stop := serve(t, name, "NUM_PROXIES: 1\n")
			c := &demotest.Client{T: t, Base: base, XFF: "10.10.10.145"}
			tokenID := demotest.SeedSession(c)
			stop()
			got := demotest.Lines(t, logPath)
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
			c := &demotest.Client{T: t, Base: base}
			_, out := c.Do("POST", "/authentication/login/", map[string]string{"username": "demo1@example.com", "password": "demo1"})
			c.Token = out["token"].(string)
			c.Do("POST", "/authentication/activate-token/", nil)
			want := []struct {
				method, path, token string
				status              int
				event               string
				kwarg               string
			}{
				{"GET", "/datastore/", "bogus", 401, "LIST_ALL_DATASTORES_ERROR", ""},
				{"GET", "/datastore/bed4572d-6a28-4c00-94c2-dd45322de1d0/", c.Token, 403, "LIST_DATASTORE_PERMISSION_DENIED_ERROR", "bed4572d-6a28-4c00-94c2-dd45322de1d0"},
				{"GET", "/no/such/route", "", 404, "REQUEST_ERROR", ""},
				{"DELETE", "/info/", "", 405, "REQUEST_ERROR", ""},
			}
			for _, w := range want {
				c.Token = w.token
				if code, _ := c.Do(w.method, w.path, nil); code != w.status {
					t.Errorf("%s %s = %d, want %d", w.method, w.path, code, w.status)
				}
			}
			stop()
			got := demotest.Lines(t, logPath)[2:]
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

// TestEncodedParams: percent-encoded path parameters reach the line (and
// the demo's handlers) decoded, through each router, as Psono (Django)
// decodes them: a datastore id with an encoded '-', a share id likewise,
// and an id with an encoded comma and space that no datastore has.
func TestEncodedParams(t *testing.T) {
	for _, name := range routerNames {
		t.Run(name, func(t *testing.T) {
			base, logPath, stop := serve(t, name, "")
			c := &demotest.Client{T: t, Base: base}
			_, out := c.Do("POST", "/authentication/login/", map[string]string{"username": "demo2@example.com", "password": "demo2"})
			c.Token = out["token"].(string)
			c.Do("POST", "/authentication/activate-token/", nil)
			want := []struct {
				path   string
				status int
				event  string
				kwarg  string // kwarg_datastore_id or kwarg_share_id
			}{
				{"/datastore/bed4572d%2D6a28-4c00-94c2-dd45322de1d0/", 200, "LIST_DATASTORE_SUCCESS", "bed4572d-6a28-4c00-94c2-dd45322de1d0"},
				{"/share/de10070a%2De836-4fb7-838c-89a85486c7c5/", 200, "READ_SHARE_SUCCESS", "de10070a-e836-4fb7-838c-89a85486c7c5"},
				{"/datastore/a%2C%20user=admin/", 404, "LIST_DATASTORE_NOT_FOUND_ERROR", "a, user=admin"},
			}
			for _, w := range want {
				if code, _ := c.Do("GET", w.path, nil); code != w.status {
					t.Errorf("GET %s = %d, want %d", w.path, code, w.status)
				}
			}
			stop()
			got := demotest.Lines(t, logPath)[2:]
			if len(got) != len(want) {
				t.Fatalf("%d lines, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
			}
			for i, w := range want {
				l, err := psono.Parse(got[i])
				if err != nil {
					t.Fatal(err)
				}
				ev, _ := l.Get("event")
				kw, ok := l.Get("kwarg_datastore_id")
				if !ok {
					kw, _ = l.Get("kwarg_share_id")
				}
				if ev != w.event || kw != w.kwarg {
					t.Errorf("line %s\nwant event %s, parameter %q", got[i], w.event, w.kwarg)
				}
			}
		})
	}
}
