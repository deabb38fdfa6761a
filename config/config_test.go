package config_test

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/exporter"
	"github.com/otelaudit/otelaudit/instrument"
)

func writeSettings(t *testing.T, text string) string {
	t.Helper()
	return writeFile(t, "settings.yaml", text)
}

// checkSettingError checks that loading the settings file at path fails
// with a *config.Error at path:line for key, whose text holds msg.
func checkSettingError(t *testing.T, path, key string, line int, msg string) {
	t.Helper()
	_, err := config.Load(path)
	var e *config.Error
	if !errors.As(err, &e) {
		t.Fatalf("Load = %v, want a *config.Error", err)
	}
	if e.Source != path || e.Line != line || e.Key != key {
		t.Errorf("error at %s:%d %s, want %s:%d %s", e.Source, e.Line, e.Key, path, line, key)
	}
	if !strings.Contains(err.Error(), msg) || !strings.HasPrefix(err.Error(), path+":") {
		t.Errorf("error %q does not start with the file or lacks %q", err, msg)
	}
}

func TestLoad(t *testing.T) {
	path := writeSettings(t, `# a Psono server's settings.yaml
SECRET_KEY: 'not ours to read'
ALLOWED_HOSTS: ['*']
DATABASES:
  default: {ENGINE: django.db.backends.postgresql}
LOGGING_AUDIT: True
LOGGING_AUDIT_FOLDER: /tmp/psono-audit
LOGGING_AUDIT_TIME: time_server
LOGGING_AUDIT_WHITELIST: ['READ_INFO_SUCCESS', 'LOGIN_*']
LOGGING_AUDIT_BLACKLIST:
  - LOGIN_STARTED_ERROR
NUM_PROXIES: 1
TRUSTED_IP_HEADER: HTTP_CF_CONNECTING_IP
LOGGING_AUDIT_STRICT: True
LOGGING_AUDIT_DURABILITY: fsync
LOGGING_AUDIT_FILE_MODE: 0640
LOGGING_AUDIT_FOLDER_MODE: '0750'
`)
	got, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := config.Settings{
		Enabled: true, Folder: "/tmp/psono-audit", Time: config.TimeServer,
		Whitelist: []string{"READ_INFO_SUCCESS", "LOGIN_*"}, Blacklist: []string{"LOGIN_STARTED_ERROR"},
		NumProxies: 1, TrustedIPHeader: "HTTP_CF_CONNECTING_IP", Source: path,
		Strict: true, StrictMaxResponse: instrument.DefaultStrictMaxResponse, StrictMaxHeld: instrument.DefaultStrictMaxHeld,
		Durability: exporter.Sync, FileMode: 0o640, FolderMode: 0o750,
		SealEvery: config.DefaultSealEvery, SealInterval: config.DefaultSealInterval, ForwardSchema: "psono", ForwardQueue: "spool", ForwardSpoolMax: config.DefaultForwardSpoolMax,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load:\n got %+v\nwant %+v", got, want)
	}
	if h := got.TrustedIPHeaderName(); h != "Cf-Connecting-Ip" {
		t.Errorf("TrustedIPHeaderName = %q", h)
	}
	if p := got.LogPath(); p != "/tmp/psono-audit/audit.log" {
		t.Errorf("LogPath = %q", p)
	}
}

func TestDefaults(t *testing.T) {
	for _, text := range []string{"", "# nothing\n", "SECRET_KEY: x\n", "LOGGING_AUDIT: ~\nNUM_PROXIES: null\n"} {
		got, err := config.Parse("s.yaml", []byte(text))
		if err != nil {
			t.Fatalf("Parse(%q): %v", text, err)
		}
		want := config.Default()
		want.Source = "s.yaml"
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Parse(%q) = %+v, want %+v", text, got, want)
		}
	}
}

func TestBooleans(t *testing.T) {
	for text, want := range map[string]bool{
		"True": true, "true": true, "TRUE": true, "yes": true, "On": true,
		"False": false, "false": false, "no": false, "off": false,
	} {
		s, err := config.Parse("s.yaml", []byte("LOGGING_AUDIT: "+text))
		if err != nil {
			t.Errorf("LOGGING_AUDIT: %s: %v", text, err)
			continue
		}
		if s.Enabled != want {
			t.Errorf("LOGGING_AUDIT: %s gives %v", text, s.Enabled)
		}
	}
}

// TestBadValues checks that every wrong value is reported with the file, the
// line of the value and the key.
func TestBadValues(t *testing.T) {
	tests := []struct {
		name, text, key string
		line            int
		msg             string
	}{
		{"list for bool", "A: 1\nLOGGING_AUDIT: ['x']\n", "LOGGING_AUDIT", 2, "must be True or False, got a list"},
		{"quoted bool", "LOGGING_AUDIT: 'True'\n", "LOGGING_AUDIT", 1, "must be True or False"},
		{"number for bool", "LOGGING_AUDIT: 1\n", "LOGGING_AUDIT", 1, "got a number"},
		{"unknown time", "\n\nLOGGING_AUDIT_TIME: utc\n", "LOGGING_AUDIT_TIME", 3, `unknown value "utc"; want time_utc or time_server`},
		{"negative proxies", "NUM_PROXIES: -1\n", "NUM_PROXIES", 1, "must not be negative"},
		{"string proxies", "NUM_PROXIES: two\n", "NUM_PROXIES", 1, "must be a whole number"},
		{"scalar whitelist", "LOGGING_AUDIT_WHITELIST: READ_INFO_SUCCESS\n", "LOGGING_AUDIT_WHITELIST", 1, "must be a list"},
		{"number in list", "LOGGING_AUDIT_BLACKLIST:\n  - A\n  - 3\n", "LOGGING_AUDIT_BLACKLIST", 2, "entry 2 (line 3) must be a string"},
		{"bad pattern", "LOGGING_AUDIT_WHITELIST: ['LOG*IN']\n", "LOGGING_AUDIT_WHITELIST", 1, "'*' is allowed only at the end"},
		{"empty pattern", "LOGGING_AUDIT_BLACKLIST: ['']\n", "LOGGING_AUDIT_BLACKLIST", 1, "empty event pattern"},
		{"list folder", "LOGGING_AUDIT_FOLDER: [a]\n", "LOGGING_AUDIT_FOLDER", 1, "must be a string"},
		{"unknown durability", "LOGGING_AUDIT_DURABILITY: always\n", "LOGGING_AUDIT_DURABILITY", 1, `unknown durability "always"; want write, fsync or buffered`},
		{"bad mode", "LOGGING_AUDIT_FILE_MODE: '0999'\n", "LOGGING_AUDIT_FILE_MODE", 1, "octal permission"},
		{"list strict", "LOGGING_AUDIT_STRICT: []\n", "LOGGING_AUDIT_STRICT", 1, "must be True or False"},
		{"header form", "TRUSTED_IP_HEADER: X-Real-IP\n", "TRUSTED_IP_HEADER", 1, "HTTP_X_REAL_IP"},
		{"zero held bound", "LOGGING_AUDIT: True\nLOGGING_AUDIT_STRICT_MAX_HELD: 0\n", "LOGGING_AUDIT_STRICT_MAX_HELD", 2, "positive number of bytes"},
		{"text response bound", "LOGGING_AUDIT_STRICT_MAX_RESPONSE: lots\n", "LOGGING_AUDIT_STRICT_MAX_RESPONSE", 1, "must be a whole number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkSettingError(t, writeSettings(t, tt.text), tt.key, tt.line, tt.msg)
		})
	}
}

func TestNotYAML(t *testing.T) {
	path := writeSettings(t, "LOGGING_AUDIT: [\n")
	if _, err := config.Load(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Load of broken YAML = %v, want an error naming the file", err)
	}
	path = writeSettings(t, "- a\n- b\n")
	if _, err := config.Load(path); err == nil || !strings.Contains(err.Error(), "mapping") {
		t.Errorf("Load of a list = %v, want an error asking for a mapping", err)
	}
}

func TestEnvOverrides(t *testing.T) {
	path := writeSettings(t, "LOGGING_AUDIT: False\nLOGGING_AUDIT_WHITELIST: ['X']\nNUM_PROXIES: 3\n")
	t.Setenv("PSONO_LOGGING_AUDIT", "true")
	t.Setenv("PSONO_LOGGING_AUDIT_WHITELIST", `["READ_INFO_SUCCESS", "LOGIN_*"]`)
	t.Setenv("PSONO_LOGGING_AUDIT_FOLDER", "/srv/audit")
	t.Setenv("PSONO_NUM_PROXIES", "0")
	t.Setenv("PSONO_LOGGING_AUDIT_TIME", "time_server")
	s, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Enabled || s.Folder != "/srv/audit" || s.Time != config.TimeServer || s.NumProxies != 0 ||
		!reflect.DeepEqual(s.Whitelist, []string{"READ_INFO_SUCCESS", "LOGIN_*"}) {
		t.Errorf("env overrides not applied: %+v", s)
	}
}

func TestEnvBadValues(t *testing.T) {
	tests := []struct{ key, val, msg string }{
		{"LOGGING_AUDIT", `["x"]`, "must be true or false, got a list"},
		{"LOGGING_AUDIT_WHITELIST", "READ_INFO_SUCCESS", "must be a JSON list"},
		{"NUM_PROXIES", "-2", "must not be negative"},
		{"NUM_PROXIES", "1.5", "whole number"},
		{"LOGGING_AUDIT_TIME", "utc", "unknown value"},
	}
	path := writeSettings(t, "LOGGING_AUDIT: True\n")
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.val, func(t *testing.T) {
			t.Setenv("PSONO_"+tt.key, tt.val)
			_, err := config.Load(path)
			var e *config.Error
			if !errors.As(err, &e) || e.Key != tt.key || e.Source != "environment variable PSONO_"+tt.key || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Load = %v, want an error of PSONO_%s with %q", err, tt.key, tt.msg)
			}
		})
	}
}

func TestLoadPsono(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", t.TempDir())
	t.Setenv("PSONO_HOME", home)
	if _, err := config.LoadPsono(); !errors.Is(err, config.ErrNotFound) && !strings.Contains(err.Error(), "/root/") {
		t.Fatalf("LoadPsono with no file = %v, want ErrNotFound", err)
	}
	dir := filepath.Join(home, ".psono_server")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "settings.yaml")
	if err := os.WriteFile(path, []byte("LOGGING_AUDIT: True\nLOGGING_AUDIT_FOLDER: /a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := config.LoadPsono()
	if err != nil || !s.Enabled || s.Folder != "/a" || s.Source != path {
		t.Fatalf("LoadPsono from PSONO_HOME = %+v, %v", s, err)
	}

	t.Setenv("PSONO_SERVER_SETTING_BASE64", base64.StdEncoding.EncodeToString([]byte("LOGGING_AUDIT: True\nLOGGING_AUDIT_FOLDER: /b\nNUM_PROXIES: -1\n")))
	_, err = config.LoadPsono()
	var e *config.Error
	if !errors.As(err, &e) || e.Source != "PSONO_SERVER_SETTING_BASE64" || e.Line != 3 {
		t.Fatalf("LoadPsono from base64 = %v, want an error at PSONO_SERVER_SETTING_BASE64:3", err)
	}
	t.Setenv("PSONO_SERVER_SETTING_BASE64", base64.StdEncoding.EncodeToString([]byte("LOGGING_AUDIT: True\nLOGGING_AUDIT_FOLDER: /b\n")))
	if s, err := config.LoadPsono(); err != nil || s.Folder != "/b" {
		t.Fatalf("LoadPsono from base64 = %+v, %v", s, err)
	}
	t.Setenv("PSONO_SERVER_SETTING_BASE64", "%%%")
	if _, err := config.LoadPsono(); err == nil || !strings.Contains(err.Error(), "base64") {
		t.Fatalf("LoadPsono with bad base64 = %v", err)
	}
}
