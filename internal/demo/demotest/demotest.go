// Package demotest drives the demo server in tests: it runs it in-process
// on a loopback port with a settings file of the test's, talks to its Psono
// API as a client does, replays the session of Psono's audit-log
// documentation, and reads the audit.log it wrote. The demo of
// examples/server and the multi-router demo of examples/routers share it.
package demotest

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
)

// A RunFunc serves the demo with the command-line args until ctx is done,
// sending its listening address on ready once it accepts connections.
type RunFunc func(ctx context.Context, args []string, logw io.Writer, ready chan<- string) error

// Start runs the demo in-process with LOGGING_AUDIT on, its audit folder in
// t.TempDir(), settings appended to the settings file and args added to its
// command line. It returns the base URL, the path of audit.log and stop,
// which shuts the demo down (flushing every record) and returns run's error;
// stop runs at cleanup too.
func Start(t testing.TB, run RunFunc, settings string, args ...string) (base, logPath string, stop func() error) {
	t.Helper()
	dir := t.TempDir()
	logDir := filepath.Join(dir, "log")
	settingsPath := filepath.Join(dir, "settings.yaml")
	text := "LOGGING_AUDIT: True\nLOGGING_AUDIT_FOLDER: " + logDir + "\n" + settings
	if err := os.WriteFile(settingsPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-settings", settingsPath, "-listen", "127.0.0.1:0"}, args...), io.Discard, ready)
	}()
	select {
	case addr := <-ready:
		base = "http://" + addr
	case err := <-done:
		cancel()
		t.Fatalf("demo server did not start: %v", err)
	}
	stopped := false
	var err error
	stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			err = <-done
		}
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return base, filepath.Join(logDir, "audit.log"), stop
}

// A Client calls the demo's API as a Psono client does.
type Client struct {
	T    testing.TB
	Base string
	// Token, when set, is sent as "Authorization: Token <Token>".
	Token string
	// XFF, when set, is sent as X-Forwarded-For.
	XFF string
}

// Do sends a request with body (JSON-encoded when not nil) and returns the
// status and the decoded JSON answer.
func (c *Client) Do(method, path string, body any) (int, map[string]any) {
	c.T.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.Base+path, rd)
	if err != nil {
		c.T.Fatal(err)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Token "+c.Token)
	}
	if c.XFF != "" {
		req.Header.Set("X-Forwarded-For", c.XFF)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.T.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// SeedSession replays the example session of Psono's audit-log
// documentation through c (which should send X-Forwarded-For 10.10.10.145
// to a demo with NUM_PROXIES 1) and returns the token id of the login. The
// closing health check comes from the host itself, with no proxy header and
// no token.
func SeedSession(c *Client) (tokenID string) {
	c.T.Helper()
	steps := []struct {
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
	}
	for _, s := range steps {
		code, out := c.Do(s.method, s.path, s.body)
		if code != http.StatusOK {
			c.T.Fatalf("%s %s = %d, want 200", s.method, s.path, code)
		}
		if tok, ok := out["token"].(string); ok {
			c.Token, tokenID = tok, out["token_id"].(string)
		}
	}
	xff, token := c.XFF, c.Token
	c.XFF, c.Token = "", ""
	if code, _ := c.Do("GET", "/healthcheck/", nil); code != http.StatusOK {
		c.T.Fatalf("healthcheck = %d", code)
	}
	c.XFF, c.Token = xff, token
	return tokenID
}

// Lines returns the lines of the file at path, without their newlines.
func Lines(t testing.TB, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}
