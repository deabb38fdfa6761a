package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	otelauditlib "github.com/otelaudit/otelaudit" // not otelaudit: main_test.go has a func of that name
	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/seal"
)

// runCLI runs the command line args in process and returns its exit status
// and output.
func runCLI(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

// writeSettings writes text to a settings file named name in a folder of
// its own.
func writeSettings(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestConfigCheck: config check reads a settings file as the service does
// and prints the service's startup summary (exit 0), or the first problem
// with its file, line and setting (exit 1); it creates nothing.
func TestConfigCheck(t *testing.T) {
	for _, v := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL"} {
		t.Setenv(v, "")
	}
	keyDir := t.TempDir()
	keyPath, pubPath, err := seal.WriteKeyFiles(keyDir, "check-test")
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := os.ReadFile(pubPath)
	fingerprint := strings.Join(strings.Split(strings.TrimSpace(string(pub)), "+")[:2], "+")
	folder := filepath.Join(t.TempDir(), "log")

	for _, tt := range []struct {
		name, file, text string
		code             int
		want             []string // in the summary (exit 0) or the error (exit 1), after FILE is replaced by the file's path
	}{
		{"yaml", "settings.yaml", "LOGGING_AUDIT: True\nLOGGING_AUDIT_FOLDER: " + folder + "\nLOGGING_AUDIT_DURABILITY: fsync\nLOGGING_AUDIT_SEAL_KEY: " + keyPath + "\nLOGGING_AUDIT_WHITELIST: ['LOGIN_*']\n", 0,
			[]string{"audit=on settings=FILE folder=" + folder + " durability=fsync strict=off sealing=" + fingerprint + " log_name=", " forwarding=off whitelist=1 blacklist=0 version="}},
		{"toml", "settings.toml", "LOGGING_AUDIT = true\nLOGGING_AUDIT_FOLDER = '" + folder + "'\nLOGGING_AUDIT_STRICT = true\n", 0,
			[]string{"audit=on settings=FILE folder=" + folder + " durability=write strict=on sealing=off forwarding=off whitelist=0 blacklist=0 version="}},
		{"off", "settings.yaml", "# the rest of Psono's settings\nSECRET_KEY: x\n", 0,
			[]string{"audit=off settings=FILE folder=/var/log/psono "}},
		{"bad value", "settings.yaml", "LOGGING_AUDIT: True\nLOGGING_AUDIT_TIME: utc\n", 1,
			[]string{"FILE:2: LOGGING_AUDIT_TIME: "}},
		{"bad toml value", "settings.toml", "LOGGING_AUDIT = true\n\nNUM_PROXIES = 2.5\n", 1,
			[]string{"FILE:3: NUM_PROXIES: "}},
		{"misspelled key", "settings.yaml", "LOGGING_AUDIT: True\nLOGGING_AUDIT_STRIKT: True\n", 1,
			[]string{"FILE:2: LOGGING_AUDIT_STRIKT: ", "LOGGING_AUDIT_STRICT"}},
		{"strict with buffered", "settings.yaml", "LOGGING_AUDIT: True\nLOGGING_AUDIT_DURABILITY: buffered\nLOGGING_AUDIT_STRICT: True\n", 1,
			[]string{"FILE:3: LOGGING_AUDIT_STRICT: "}},
		{"missing key file", "settings.yaml", "LOGGING_AUDIT: True\nLOGGING_AUDIT_FOLDER: " + folder + "\nLOGGING_AUDIT_SEAL_KEY: " + filepath.Join(keyDir, "nope.key") + "\n", 1,
			[]string{"FILE:3: LOGGING_AUDIT_SEAL_KEY: seal: private key: open "}},
		{"public key as key", "settings.yaml", "LOGGING_AUDIT: True\nLOGGING_AUDIT_FOLDER: " + folder + "\nLOGGING_AUDIT_SEAL_KEY: " + pubPath + "\n", 1,
			[]string{"FILE:3: LOGGING_AUDIT_SEAL_KEY: ", "is not a private key"}},
		{"not YAML", "settings.yaml", "LOGGING_AUDIT: [\n", 1, []string{"FILE: not valid YAML"}},
	} {
		path := writeSettings(t, tt.file, tt.text)
		code, out, errOut := runCLI("config", "check", path)
		got := out
		if tt.code != 0 {
			got = errOut
		}
		ok := code == tt.code && strings.Count(got, "\n") == 1
		for _, w := range tt.want {
			ok = ok && strings.Contains(got, strings.ReplaceAll(w, "FILE", path))
		}
		if !ok {
			t.Errorf("%s: config check: exit %d, stdout %q, stderr %q; want exit %d and one line with %q", tt.name, code, out, errOut, tt.code, tt.want)
		}
		if code == 0 {
			// The summary is exactly the service's.
			s, err := config.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if want, err := otelauditlib.Summary(s); err != nil || out != want+"\n" {
				t.Errorf("%s: config check printed %q; the service's summary is %q (%v)", tt.name, out, want, err)
			}
		}
	}
	if _, err := os.Lstat(folder); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("config check made the audit folder %s: %v", folder, err)
	}

	// PSONO_<KEY> overrides apply, as for the service.
	path := writeSettings(t, "settings.yaml", "LOGGING_AUDIT: True\nLOGGING_AUDIT_FOLDER: "+folder+"\n")
	t.Setenv("PSONO_LOGGING_AUDIT_DURABILITY", "nightly")
	if code, _, errOut := runCLI("config", "check", path); code != 1 || !strings.HasPrefix(errOut, "environment variable PSONO_LOGGING_AUDIT_DURABILITY: LOGGING_AUDIT_DURABILITY: ") {
		t.Errorf("config check with PSONO_LOGGING_AUDIT_DURABILITY=nightly: exit %d, %q; want exit 1 naming the variable", code, errOut)
	}
	t.Setenv("PSONO_LOGGING_AUDIT_DURABILITY", "")
	os.Unsetenv("PSONO_LOGGING_AUDIT_DURABILITY")

	// The forwarding the environment asks for, as the service sees it.
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://user:pw@127.0.0.1:4318")
	if code, out, errOut := runCLI("config", "check", path); code != 0 || !strings.Contains(out, " forwarding=http://xxxxx@127.0.0.1:4318 protocol=http/protobuf ") {
		t.Errorf("config check with OTEL_EXPORTER_OTLP_ENDPOINT: exit %d, %q %q", code, out, errOut)
	}
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
	if code, _, errOut := runCLI("config", "check", path); code != 1 || !strings.Contains(errOut, `protocol "http/json" is not supported`) {
		t.Errorf("config check with an unsupported OTLP protocol: exit %d, %q; want exit 1", code, errOut)
	}
}

// TestConfigCheckUsage: usage errors and files that cannot be read exit 2.
func TestConfigCheckUsage(t *testing.T) {
	dir := t.TempDir()
	good := writeSettings(t, "settings.yaml", "LOGGING_AUDIT: False\n")
	for _, tt := range []struct {
		args []string
		code int
		want string // in the standard error, or for exit 0 the standard output
	}{
		{[]string{"config"}, 2, "want a subcommand"},
		{[]string{"config", "verify", good}, 2, `unknown subcommand "verify"`},
		{[]string{"config", "check"}, 2, "want exactly one FILE"},
		{[]string{"config", "check", good, good}, 2, "want exactly one FILE"},
		{[]string{"config", "check", "-x", good}, 2, "flag provided but not defined"},
		{[]string{"config", "check", filepath.Join(dir, "missing.yaml")}, 2, "no such file"},
		{[]string{"config", "check", dir}, 2, "not a regular file"},
		{[]string{"config", "-h"}, 0, ""},
		{[]string{"config", "check", "-h"}, 0, ""},
		{[]string{"help", "config"}, 0, "usage: otelaudit config check FILE"},
		{[]string{"help"}, 0, "config  check a settings file"},
	} {
		code, out, errOut := runCLI(tt.args...)
		got := errOut
		if tt.code == 0 {
			got = out
		}
		if code != tt.code || !strings.Contains(got, tt.want) {
			t.Errorf("otelaudit %q: exit %d, stdout %q, stderr %q; want exit %d and %q", tt.args, code, out, errOut, tt.code, tt.want)
		}
	}
}
