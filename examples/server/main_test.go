package main

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/internal/demo/demotest"
	"github.com/otelaudit/otelaudit/internal/seed"
	"github.com/otelaudit/otelaudit/psono"
)

var isoTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$`)

// TestSeedSession replays the example session of Psono's audit-log
// documentation against the demo and compares the lines with the
// documented ones: identical except the time, the host name and the token id.
func TestSeedSession(t *testing.T) {
	base, logPath, stop := demotest.Start(t, run, "NUM_PROXIES: 1\n")
	tokenID := demotest.SeedSession(&demotest.Client{T: t, Base: base, XFF: "10.10.10.145"})
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}

	got := demotest.Lines(t, logPath)
	if len(got) != len(seed.Lines) {
		t.Fatalf("audit.log has %d lines, want %d:\n%s", len(got), len(seed.Lines), strings.Join(got, "\n"))
	}
	host := instrument.FQDN() // the default host name
	for i, line := range got {
		g, err := psono.Parse(line)
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if !isoTime.MatchString(g.Time) {
			t.Errorf("line %d: time %q is not Python's isoformat", i+1, g.Time)
		}
		w, _ := psono.Parse(seed.Lines[i])
		w.Time = g.Time
		for j := range w.Pairs {
			switch w.Pairs[j].Key {
			case "hostname":
				w.Pairs[j].Value = host
			case "kwarg_token_id":
				w.Pairs[j].Value = tokenID
			}
		}
		if want := w.String(); line != want {
			t.Errorf("line %d:\n got %s\nwant %s", i+1, line, want)
		}
	}
}

// TestErrorsAndUnrouted checks the demo's refusals and the requests no route
// claims: each gets exactly one line with the right status and event.
func TestErrorsAndUnrouted(t *testing.T) {
	base, logPath, stop := demotest.Start(t, run, "")
	c := &demotest.Client{T: t, Base: base}
	want := []struct {
		method, path, token string
		body                any
		status              int
		event               string
	}{
		{"POST", "/authentication/login/", "", map[string]string{"username": "demo2@example.com", "password": "nope"}, 400, "LOGIN_STARTED_ERROR"},
		{"GET", "/user/status/", "", nil, 401, "READ_STATUS_ERROR"},
		{"GET", "/datastore/", "bogus", nil, 401, "LIST_ALL_DATASTORES_ERROR"},
		{"GET", "/no/such/route", "", nil, 404, "REQUEST_ERROR"},
		{"DELETE", "/info/", "", nil, 405, "REQUEST_ERROR"},
	}
	for _, w := range want {
		c.Token = w.token
		if code, _ := c.Do(w.method, w.path, w.body); code != w.status {
			t.Errorf("%s %s = %d, want %d", w.method, w.path, code, w.status)
		}
	}
	// Someone else's datastore: demo1 logs in and reads demo2's.
	c.Token = ""
	_, out := c.Do("POST", "/authentication/login/", map[string]string{"username": "demo1@example.com", "password": "demo1"})
	c.Token = out["token"].(string)
	c.Do("POST", "/authentication/activate-token/", nil)
	if code, _ := c.Do("GET", "/datastore/bed4572d-6a28-4c00-94c2-dd45322de1d0/", nil); code != 403 {
		t.Errorf("someone else's datastore = %d, want 403", code)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	lines := demotest.Lines(t, logPath)
	if len(lines) != len(want)+3 {
		t.Fatalf("audit.log has %d lines, want %d", len(lines), len(want)+3)
	}
	for i, w := range want {
		l, err := psono.Parse(lines[i])
		if err != nil {
			t.Fatal(err)
		}
		ev, _ := l.Get("event")
		st, _ := l.Get("status")
		ok, _ := l.Get("success")
		if ev != w.event || st != psono.StatusName(w.status) || ok != "False" {
			t.Errorf("line %d = %s; want event %s, status %s, success False", i+1, lines[i], w.event, psono.StatusName(w.status))
		}
	}
	last, _ := psono.Parse(lines[len(lines)-1])
	if ev, _ := last.Get("event"); ev != "LIST_DATASTORE_PERMISSION_DENIED_ERROR" {
		t.Errorf("last line = %s", lines[len(lines)-1])
	}
	if u, _ := last.Get("user"); u != "demo1@example.com" {
		t.Errorf("last line user = %q", u)
	}
	if k, _ := last.Get("kwarg_datastore_id"); k != "bed4572d-6a28-4c00-94c2-dd45322de1d0" {
		t.Errorf("last line kwarg_datastore_id = %q", k)
	}
}

// TestLogFilePermissions checks that the folder and audit.log are created
// private.
func TestLogFilePermissions(t *testing.T) {
	base, logPath, stop := demotest.Start(t, run, "")
	(&demotest.Client{T: t, Base: base}).Do("GET", "/info/", nil)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{logPath: 0o600, filepath.Dir(logPath): 0o700 | os.ModeDir} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s mode = %v, want %v", path, fi.Mode(), want)
		}
	}
}

// TestNoSpoofedIP: a client's own X-Forwarded-For or X-Real-IP does not
// change user_ip on a server with no proxy configured.
func TestNoSpoofedIP(t *testing.T) {
	base, logPath, stop := demotest.Start(t, run, "")
	req, _ := http.NewRequest("GET", base+"/info/", nil)
	req.Header.Set("X-Forwarded-For", "10.10.10.145")
	req.Header.Set("X-Real-IP", "10.10.10.146")
	req.Header.Set("CF-Connecting-IP", "10.10.10.147")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	l, err := psono.Parse(demotest.Lines(t, logPath)[0])
	if err != nil {
		t.Fatal(err)
	}
	if ip, _ := l.Get("user_ip"); ip != "127.0.0.1" {
		t.Errorf("user_ip = %q, want the peer 127.0.0.1", ip)
	}
}
