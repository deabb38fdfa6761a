package otelaudit_test

import (
	"context"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otelaudit/otelaudit"
	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/psono"
)

// serve runs an Auditor built from the settings text on a real loopback
// listener, sends one GET per event code (the handler sets the event from the
// path), shuts everything down and returns the lines of audit.log (nil when
// there is no file).
func serve(t *testing.T, settingsText string, events ...string) []psono.Line {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "settings.yaml")
	text := "LOGGING_AUDIT_FOLDER: " + filepath.Join(dir, "log") + "\n" + settingsText
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := otelaudit.New(s, otelaudit.WithHostName("audit-host"))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /event/{code}/", func(w http.ResponseWriter, r *http.Request) {
		instrument.SetEvent(r.Context(), r.PathValue("code"))
	})
	srv := httptest.NewServer(a.Handler(mux))
	for _, ev := range events {
		resp, err := http.Get(srv.URL + "/event/" + ev + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	srv.Close()
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(s.LogPath())
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var lines []psono.Line
	for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if l == "" {
			continue
		}
		pl, err := psono.Parse(l)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, pl)
	}
	return lines
}

func events(lines []psono.Line) string {
	var evs []string
	for _, l := range lines {
		ev, _ := l.Get("event")
		evs = append(evs, ev)
	}
	return strings.Join(evs, " ")
}

var all = []string{"READ_INFO_SUCCESS", "LOGIN_STARTED_SUCCESS", "LOGIN_STARTED_ERROR", "LIST_DATASTORE_SUCCESS", "CHECK_HEALTH_SUCCESS"}

// TestWhitelistBlacklist runs each list setting through the real settings
// file, middleware and audit.log.
func TestWhitelistBlacklist(t *testing.T) {
	tests := []struct {
		name, settings, want string
	}{
		{"all", "LOGGING_AUDIT: True\n", strings.Join(all, " ")},
		{"whitelist", "LOGGING_AUDIT: True\nLOGGING_AUDIT_WHITELIST: ['READ_INFO_SUCCESS', 'CHECK_HEALTH_SUCCESS']\n", "READ_INFO_SUCCESS CHECK_HEALTH_SUCCESS"},
		{"blacklist", "LOGGING_AUDIT: True\nLOGGING_AUDIT_BLACKLIST: ['CHECK_HEALTH_SUCCESS']\n", "READ_INFO_SUCCESS LOGIN_STARTED_SUCCESS LOGIN_STARTED_ERROR LIST_DATASTORE_SUCCESS"},
		{"prefix whitelist", "LOGGING_AUDIT: True\nLOGGING_AUDIT_WHITELIST: ['LOGIN_*']\n", "LOGIN_STARTED_SUCCESS LOGIN_STARTED_ERROR"},
		{"prefix blacklist", "LOGGING_AUDIT: True\nLOGGING_AUDIT_BLACKLIST: ['LOGIN_*', 'CHECK_*']\n", "READ_INFO_SUCCESS LIST_DATASTORE_SUCCESS"},
		{"both", "LOGGING_AUDIT: True\nLOGGING_AUDIT_WHITELIST: ['LOGIN_*', 'READ_INFO_SUCCESS']\nLOGGING_AUDIT_BLACKLIST: ['LOGIN_STARTED_ERROR']\n", "READ_INFO_SUCCESS LOGIN_STARTED_SUCCESS"},
		{"whitelist matches nothing", "LOGGING_AUDIT: True\nLOGGING_AUDIT_WHITELIST: ['NOTHING']\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := events(serve(t, tt.settings, all...)); got != tt.want {
				t.Errorf("logged %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDisabled(t *testing.T) {
	for _, s := range []string{"LOGGING_AUDIT: False\n", ""} {
		if lines := serve(t, s, all...); lines != nil {
			t.Errorf("settings %q: audit.log exists with %d lines, want no file", s, len(lines))
		}
	}
}

func TestEnvOverride(t *testing.T) {
	t.Setenv("PSONO_LOGGING_AUDIT", "true")
	t.Setenv("PSONO_LOGGING_AUDIT_WHITELIST", `["LIST_*"]`)
	if got := events(serve(t, "LOGGING_AUDIT: False\n", all...)); got != "LIST_DATASTORE_SUCCESS" {
		t.Errorf("logged %q, want LIST_DATASTORE_SUCCESS", got)
	}
}

// TestTimeSetting checks time_utc and time_server against the clock, in a
// zone far from UTC.
func TestTimeSetting(t *testing.T) {
	loc := time.FixedZone("UTC+13", 13*3600)
	old := time.Local
	time.Local = loc
	defer func() { time.Local = old }()
	for _, tt := range []struct {
		setting string
		loc     *time.Location
	}{{"time_utc", time.UTC}, {"time_server", loc}} {
		before := time.Now().Truncate(time.Microsecond)
		lines := serve(t, "LOGGING_AUDIT: True\nLOGGING_AUDIT_TIME: "+tt.setting+"\n", "READ_INFO_SUCCESS")
		after := time.Now()
		if len(lines) != 1 {
			t.Fatalf("%s: %d lines", tt.setting, len(lines))
		}
		got, err := psono.ParseTime(lines[0].Time, tt.loc)
		if err != nil {
			t.Fatal(err)
		}
		if got.Before(before) || got.After(after) {
			t.Errorf("%s: line time %s read in %s is %v, not between %v and %v", tt.setting, lines[0].Time, tt.loc, got, before, after)
		}
	}
}

// Example shows the few lines that add the audit log to a service, in the
// order that loses no record: the server is shut down first (no request is
// served after it), then the auditor, each with a bounded context of its
// own. (A deferred auditor.Shutdown never runs when a signal ends the
// process.)
func Example() {
	settings, err := config.LoadPsono() // or config.Load("settings.yaml")
	if err != nil {
		settings = config.Default() // audit logging off
	}
	auditor, err := otelaudit.New(settings)
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /datastore/{datastore_id}/", func(w http.ResponseWriter, r *http.Request) {
		instrument.SetLogger(r.Context(), "restapi.views.datastore")
		instrument.SetUser(r.Context(), "demo2@example.com", "ba504938-9a23-4162-867f-6840c301bc20")
		instrument.SetEvent(r.Context(), "LIST_DATASTORE_SUCCESS")
	})
	srv := &http.Server{Addr: "127.0.0.1:10200", Handler: auditor.Handler(mux), ReadHeaderTimeout: 10 * time.Second}
	// go srv.ListenAndServe(), and wait for SIGINT or SIGTERM; then:

	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Print(err)
	}
	actx, acancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer acancel()
	if err := auditor.Shutdown(actx); err != nil {
		log.Print(err)
	}
}

// TestClientIPSettings checks that TRUSTED_IP_HEADER_OVERWRITE,
// TRUSTED_IP_HEADER and a quoted NUM_PROXIES reach the middleware.
func TestClientIPSettings(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "settings.toml")
	text := "LOGGING_AUDIT = true\nLOGGING_AUDIT_FOLDER = '" + dir + "'\nNUM_PROXIES = '1'\n" +
		"TRUSTED_IP_HEADER = 'HTTP_X_REAL_IP'\nTRUSTED_IP_HEADER_OVERWRITE = 'HTTP_X_CLIENT_IP'\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := otelaudit.New(s)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler(http.NotFoundHandler()))
	requests := []map[string]string{
		{"X-Client-Ip": "198.51.100.4", "X-Real-Ip": "203.0.113.9", "X-Forwarded-For": "192.0.2.1"},
		{"X-Client-Ip": "", "X-Real-Ip": "203.0.113.9", "X-Forwarded-For": "192.0.2.1"},
		{"X-Real-Ip": "not-an-ip", "X-Forwarded-For": "192.0.2.1"},
		{"X-Forwarded-For": "2001:db8::5"},
	}
	want := []string{"198.51.100.4", "203.0.113.9", "192.0.2.1", "2001:db8::5"}
	for _, h := range requests {
		req, _ := http.NewRequest("GET", srv.URL+"/", nil)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	srv.Close()
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	lines := auditLines(t, s.LogPath())
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d", len(lines), len(want))
	}
	for i, l := range lines {
		pl, err := psono.Parse(l)
		if err != nil {
			t.Fatal(err)
		}
		if ip, _ := pl.Get("user_ip"); ip != want[i] {
			t.Errorf("request %d: user_ip=%s, want %s", i+1, ip, want[i])
		}
	}
}
