package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/seal"
)

// binary is the otelaudit command, built once, for the tests that need a
// process of its own (signals, build information); the others call run.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "otelaudit-cmd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	binary = filepath.Join(dir, "otelaudit")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// otelaudit runs the command in this process, through run as main does,
// and returns its exit status and output.
func otelaudit(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

func TestHelp(t *testing.T) {
	tests := []struct {
		args     []string
		wantCode int
		wantOut  string
	}{
		{[]string{"help"}, 0, "keygen"},
		{[]string{"help", "verify"}, 0, "-key FILE"},
		{[]string{"help", "tail"}, 0, "SIGINT"},
		{[]string{"verify", "-h"}, 0, ""},
		{nil, 2, ""},
		{[]string{"frobnicate"}, 2, ""},
		{[]string{"help", "frobnicate"}, 2, ""},
	}
	for _, tt := range tests {
		code, out, _ := otelaudit(t, tt.args...)
		if code != tt.wantCode || !strings.Contains(out, tt.wantOut) {
			t.Errorf("otelaudit %q: exit %d, output %q; want exit %d and %q", tt.args, code, out, tt.wantCode, tt.wantOut)
		}
	}
}

func TestKeygen(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := otelaudit(t, "keygen", "-dir", dir, "audit-test")
	if code != 0 {
		t.Fatalf("keygen: exit %d: %s", code, errOut)
	}
	keyPath, pubPath := filepath.Join(dir, "audit-test.key"), filepath.Join(dir, "audit-test.pub")
	if !strings.Contains(out, keyPath) || !strings.Contains(out, pubPath) {
		t.Errorf("keygen output %q does not name %s and %s", out, keyPath, pubPath)
	}
	fi, err := os.Stat(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v, want 0600", keyPath, fi.Mode().Perm())
	}
	// Round trip: a log sealed with the key verifies with the public key.
	log := filepath.Join(dir, "audit.log")
	s, err := seal.New(keyPath, log)
	if err != nil {
		t.Fatal(err)
	}
	line := []byte("2026-11-29T16:50:00 logger=x, user_ip=10.0.0.1, req_method=GET, req_url=/, success=True, hostname=h, status=HTTP_200_OK, event=READ_INFO_SUCCESS\n")
	os.WriteFile(log, line, 0o600)
	s.Append(line)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := otelaudit(t, "verify", "-key", pubPath, log); code != 0 || !strings.Contains(out, "intact") {
		t.Errorf("verify after keygen: exit %d\n%s%s", code, out, errOut)
	}

	for _, args := range [][]string{
		{"keygen", "-dir", dir, "audit-test"}, // exists
		{"keygen", "-dir", dir},               // no name
		{"keygen", "-dir", dir, "a", "b"},     // two names
		{"keygen", "-dir", dir, "bad+name"},   // not a key name
	} {
		if code, _, errOut := otelaudit(t, args...); code != 2 || errOut == "" {
			t.Errorf("otelaudit %q: exit %d, stderr %q; want 2 and a message", args, code, errOut)
		}
	}
}

// record returns a Psono line with the given fields.
func record(time, ip, event, user string, status int, kwargs ...string) string {
	l := psono.Line{Time: time, Pairs: []psono.Pair{
		{Key: "logger", Value: "restapi.views.test"},
		{Key: "user_ip", Value: ip},
		{Key: "req_method", Value: "POST"},
		{Key: "req_url", Value: "/authentication/login/"},
		{Key: "success", Value: map[bool]string{true: "True", false: "False"}[status < 300]},
		{Key: "hostname", Value: "host one"},
		{Key: "status", Value: psono.StatusName(status)},
		{Key: "event", Value: event},
	}}
	if user != "" {
		l.Pairs = append(l.Pairs, psono.Pair{Key: "user", Value: user}, psono.Pair{Key: "user_id", Value: "id-" + user})
	}
	for i := 0; i+1 < len(kwargs); i += 2 {
		l.Pairs = append(l.Pairs, psono.Pair{Key: "kwarg_" + kwargs[i], Value: kwargs[i+1]})
	}
	return l.String() + "\n"
}

func writeGzip(t *testing.T, path, content string) {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(content))
	zw.Close()
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestSearch(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "audit.log.1.gz")
	cur := filepath.Join(dir, "audit.log")
	writeGzip(t, old, record("2026-11-28T23:59:59.500000", "10.0.0.1", "LOGIN_STARTED_SUCCESS", "", 200)+
		record("2026-11-29T00:00:00", "10.0.0.2", "LOGIN_FAILED_ERROR", "alice@example.com", 403))
	os.WriteFile(cur, []byte(record("2026-11-29T08:00:00.000001", "192.168.1.9", "LOGIN_SUCCESS", "bob@example.com", 200)+
		"not an audit line\n"+
		record("2026-11-29T09:30:00", "10.0.0.2", "READ_DATASTORE_SUCCESS", "alice@example.com", 200, "datastore_id", "d1")+
		record("2026-11-29T10:00:00", "::1", "READ_SECRET_ERROR", "bob@example.com", 404)), 0o600)
	os.WriteFile(cur+".checkpoints", []byte("-- otelaudit checkpoint\nx\n"), 0o600) // skipped

	tests := []struct {
		name       string
		args       []string
		wantEvents []string
		wantCode   int
	}{
		{"all", nil, []string{"LOGIN_STARTED_SUCCESS", "LOGIN_FAILED_ERROR", "LOGIN_SUCCESS", "READ_DATASTORE_SUCCESS", "READ_SECRET_ERROR"}, 0},
		{"event exact", []string{"-event", "LOGIN_SUCCESS"}, []string{"LOGIN_SUCCESS"}, 0},
		{"event prefix", []string{"-event", "LOGIN_*"}, []string{"LOGIN_STARTED_SUCCESS", "LOGIN_FAILED_ERROR", "LOGIN_SUCCESS"}, 0},
		{"two events", []string{"-event", "LOGIN_SUCCESS", "-event", "READ_*"}, []string{"LOGIN_SUCCESS", "READ_DATASTORE_SUCCESS", "READ_SECRET_ERROR"}, 0},
		{"user name", []string{"-user", "alice@example.com"}, []string{"LOGIN_FAILED_ERROR", "READ_DATASTORE_SUCCESS"}, 0},
		{"user id", []string{"-user", "id-bob@example.com"}, []string{"LOGIN_SUCCESS", "READ_SECRET_ERROR"}, 0},
		{"ip", []string{"-ip", "10.0.0.2"}, []string{"LOGIN_FAILED_ERROR", "READ_DATASTORE_SUCCESS"}, 0},
		{"network", []string{"-ip", "10.0.0.0/8"}, []string{"LOGIN_STARTED_SUCCESS", "LOGIN_FAILED_ERROR", "READ_DATASTORE_SUCCESS"}, 0},
		{"ipv6", []string{"-ip", "::1"}, []string{"READ_SECRET_ERROR"}, 0},
		{"status code", []string{"-status", "403"}, []string{"LOGIN_FAILED_ERROR"}, 0},
		{"status name", []string{"-status", "HTTP_404_NOT_FOUND"}, []string{"READ_SECRET_ERROR"}, 0},
		{"status class", []string{"-status", "4xx"}, []string{"LOGIN_FAILED_ERROR", "READ_SECRET_ERROR"}, 0},
		{"failed", []string{"-success", "false"}, []string{"LOGIN_FAILED_ERROR", "READ_SECRET_ERROR"}, 0},
		{"since line format", []string{"-since", "2026-11-29T00:00:00"}, []string{"LOGIN_FAILED_ERROR", "LOGIN_SUCCESS", "READ_DATASTORE_SUCCESS", "READ_SECRET_ERROR"}, 0},
		{"since RFC 3339 with zone", []string{"-since", "2026-11-29T10:30:01+01:00"}, []string{"READ_SECRET_ERROR"}, 0},
		{"until date", []string{"-until", "2026-11-29"}, []string{"LOGIN_STARTED_SUCCESS"}, 0},
		{"range", []string{"-since", "2026-11-29T08:00:00.000001", "-until", "2026-11-29T10:00:00Z"}, []string{"LOGIN_SUCCESS", "READ_DATASTORE_SUCCESS"}, 0},
		{"combined", []string{"-event", "READ_*", "-user", "bob@example.com", "-success", "false"}, []string{"READ_SECRET_ERROR"}, 0},
		{"nothing", []string{"-user", "mallory"}, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, asJSON := range []bool{false, true} {
				args := append([]string{"search"}, tt.args...)
				if asJSON {
					args = append(args, "-json")
				}
				args = append(args, old, cur, cur+".checkpoints")
				code, out, errOut := otelaudit(t, args...)
				if code != tt.wantCode {
					t.Fatalf("otelaudit %q: exit %d, want %d\n%s", args, code, tt.wantCode, errOut)
				}
				var got []string
				for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
					if line == "" {
						continue
					}
					if asJSON {
						var obj map[string]any
						if err := json.Unmarshal([]byte(line), &obj); err != nil {
							t.Fatalf("-json printed %q: %v", line, err)
						}
						got = append(got, obj["event.name"].(string))
					} else {
						l, err := psono.Parse(line)
						if err != nil {
							t.Fatalf("printed %q: %v", line, err)
						}
						ev, _ := l.Get("event")
						got = append(got, ev)
					}
				}
				if strings.Join(got, " ") != strings.Join(tt.wantEvents, " ") {
					t.Errorf("otelaudit %q printed events %q, want %q", args, got, tt.wantEvents)
				}
				if !strings.Contains(errOut, "skipped 1 line that is not a Psono audit record: "+cur+":2: ") {
					t.Errorf("stderr %q does not report the line that is not a record", errOut)
				}
			}
		})
	}

	t.Run("json keys", func(t *testing.T) {
		_, out, _ := otelaudit(t, "search", "-json", "-event", "READ_DATASTORE_SUCCESS", cur)
		var obj map[string]any
		if err := json.Unmarshal([]byte(out), &obj); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{
			"timestamp": "2026-11-29T09:30:00", "audit.logger": "restapi.views.test", "client.address": "10.0.0.2",
			"http.request.method": "POST", "url.path": "/authentication/login/", "audit.success": true,
			"host.name": "host one", "http.response.status_code": float64(200), "event.name": "READ_DATASTORE_SUCCESS",
			"user.name": "alice@example.com", "user.id": "id-alice@example.com", "audit.kwarg.datastore_id": "d1",
		}
		if fmt.Sprint(obj) != fmt.Sprint(want) {
			t.Errorf("-json object\n%v\nwant\n%v", obj, want)
		}
	})

	for _, args := range [][]string{
		{"search"},
		{"search", "-status", "teapot", cur},
		{"search", "-since", "yesterday", cur},
		{"search", "-ip", "10.0.0.300", cur},
		{"search", "-success", "maybe", cur},
		{"search", "-event", "A*B*", cur},
		{"search", filepath.Join(dir, "missing.log")},
	} {
		if code, _, errOut := otelaudit(t, args...); code != 2 || errOut == "" {
			t.Errorf("otelaudit %q: exit %d, stderr %q; want 2 and a message", args, code, errOut)
		}
	}
}
