package config_test

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/exporter"
	"github.com/otelaudit/otelaudit/instrument"
)

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadTOML(t *testing.T) {
	path := writeFile(t, "settings.toml", `# a Psono server's settings.toml
SECRET_KEY = 'not ours to read'
ALLOWED_HOSTS = ['*']
LOGGING_AUDIT = true
LOGGING_AUDIT_FOLDER = "/tmp/psono-audit"
LOGGING_AUDIT_TIME = "time_server"
LOGGING_AUDIT_WHITELIST = [
  'READ_INFO_SUCCESS',
  'LOGIN_*',
]
LOGGING_AUDIT_BLACKLIST = ["LOGIN_STARTED_ERROR"]
NUM_PROXIES = "2"
TRUSTED_IP_HEADER = "HTTP_CF_CONNECTING_IP"
TRUSTED_IP_HEADER_OVERWRITE = "HTTP_X_REAL_IP"
LOGGING_AUDIT_STRICT = true
LOGGING_AUDIT_DURABILITY = "fsync"
LOGGING_AUDIT_FILE_MODE = 0o640
LOGGING_AUDIT_FOLDER_MODE = '0750'

[DATABASES.default]
ENGINE = "django.db.backends.postgresql"
LOGGING_AUDIT = "not a top-level key: ignored"
`)
	got, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := config.Settings{
		Enabled: true, Folder: "/tmp/psono-audit", Time: config.TimeServer,
		Whitelist: []string{"READ_INFO_SUCCESS", "LOGIN_*"}, Blacklist: []string{"LOGIN_STARTED_ERROR"},
		NumProxies: 2, TrustedIPHeader: "HTTP_CF_CONNECTING_IP", TrustedIPHeaderOverwrite: "HTTP_X_REAL_IP",
		Source: path, Strict: true, StrictMaxResponse: instrument.DefaultStrictMaxResponse, StrictMaxHeld: instrument.DefaultStrictMaxHeld,
		Durability: exporter.Sync, FileMode: 0o640, FolderMode: 0o750,
		SealEvery: config.DefaultSealEvery, SealInterval: config.DefaultSealInterval, ForwardSchema: "psono", ForwardQueue: "spool", ForwardSpoolMax: config.DefaultForwardSpoolMax,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load:\n got %+v\nwant %+v", got, want)
	}
	if h := got.TrustedIPHeaderOverwriteName(); h != "X-Real-Ip" {
		t.Errorf("TrustedIPHeaderOverwriteName = %q", h)
	}
	empty, err := config.ParseTOML("s.toml", nil)
	want = config.Default()
	want.Source = "s.toml"
	if err != nil || !reflect.DeepEqual(empty, want) {
		t.Errorf("ParseTOML of an empty file = %+v, %v; want the defaults", empty, err)
	}
}

// TestBadSettings checks each wrong value and each combination that cannot
// work, in YAML and in TOML files on disk, for the file, the line of the
// value and the key.
func TestBadSettings(t *testing.T) {
	tests := []struct {
		name, file, text, key string
		line                  int
		msg                   string
	}{
		{"TOML string for bool", "settings.toml", "A = 1\nLOGGING_AUDIT = 'True'\n", "LOGGING_AUDIT", 2, `must be true or false, got "True"`},
		{"TOML unknown time", "settings.toml", "LOGGING_AUDIT = true\n\nLOGGING_AUDIT_TIME = 'utc'\n", "LOGGING_AUDIT_TIME", 3, `unknown value "utc"; want time_utc or time_server`},
		{"TOML number in list", "settings.toml", "LOGGING_AUDIT_BLACKLIST = [\n  'A',\n  3,\n]\n", "LOGGING_AUDIT_BLACKLIST", 1, "entry 2 must be a string, got a number"},
		{"TOML lower-case pattern", "settings.toml", "# c\nLOGGING_AUDIT_WHITELIST = ['READ_INFO_SUCCESS', 'login_*']\n", "LOGGING_AUDIT_WHITELIST", 2, `entry 2: "login_*" can never match, event codes are upper case; write "LOGIN_*"`},
		{"TOML float proxies", "settings.toml", "NUM_PROXIES = 1.5\n", "NUM_PROXIES", 1, "must be a whole number, got a number"},
		{"TOML string proxies", "settings.toml", "NUM_PROXIES = '2.0'\n", "NUM_PROXIES", 1, `must be a whole number, got "2.0"`},
		{"TOML credential header", "settings.toml", "\nTRUSTED_IP_HEADER = 'HTTP_AUTHORIZATION'\n", "TRUSTED_IP_HEADER", 2, "carries credentials"},
		{"TOML bad mode", "settings.toml", "LOGGING_AUDIT_FILE_MODE = 640\n", "LOGGING_AUDIT_FILE_MODE", 1, "octal permission"},
		{"TOML strict without audit", "settings.toml", "LOGGING_AUDIT_STRICT = true\nLOGGING_AUDIT = false\n", "LOGGING_AUDIT_STRICT", 1, "LOGGING_AUDIT is off"},
		{"TOML strict buffered", "settings.toml", "LOGGING_AUDIT = true\nLOGGING_AUDIT_DURABILITY = 'buffered'\nLOGGING_AUDIT_STRICT = true\n", "LOGGING_AUDIT_STRICT", 3, "not buffered"},
		{"YAML lower-case pattern", "settings.yaml", "LOGGING_AUDIT_BLACKLIST:\n  - CHECK_HEALTH_SUCCESS\n  - Login_Started_Error\n", "LOGGING_AUDIT_BLACKLIST", 2, `entry 2: "Login_Started_Error" can never match`},
		{"YAML bool proxies", "settings.yaml", "NUM_PROXIES: True\n", "NUM_PROXIES", 1, "must be a whole number, got a boolean"},
		{"YAML quoted float proxies", "settings.yaml", "NUM_PROXIES: '2.0'\n", "NUM_PROXIES", 1, "must be a whole number"},
		{"YAML quoted negative proxies", "settings.yaml", "NUM_PROXIES: '-1'\n", "NUM_PROXIES", 1, "must not be negative"},
		{"YAML overwrite header form", "settings.yaml", "TRUSTED_IP_HEADER_OVERWRITE: X-Real-IP\n", "TRUSTED_IP_HEADER_OVERWRITE", 1, "HTTP_X_REAL_IP"},
		{"YAML overwrite cookie", "settings.yaml", "TRUSTED_IP_HEADER_OVERWRITE: HTTP_COOKIE\n", "TRUSTED_IP_HEADER_OVERWRITE", 1, "HTTP_COOKIE carries credentials"},
		{"YAML proxy authorization", "settings.yaml", "TRUSTED_IP_HEADER: HTTP_PROXY_AUTHORIZATION\n", "TRUSTED_IP_HEADER", 1, "carries credentials"},
		{"YAML api key", "settings.yaml", "TRUSTED_IP_HEADER: HTTP_X_API_KEY\n", "TRUSTED_IP_HEADER", 1, "carries credentials"},
		{"YAML csrf token", "settings.yaml", "TRUSTED_IP_HEADER: HTTP_X_CSRFTOKEN\n", "TRUSTED_IP_HEADER", 1, "carries credentials"},
		{"YAML strict without audit", "settings.yaml", "LOGGING_AUDIT: False\nSECRET_KEY: x\nLOGGING_AUDIT_STRICT: True\n", "LOGGING_AUDIT_STRICT", 3, "LOGGING_AUDIT is off"},
		{"YAML strict, audit unset", "settings.yaml", "LOGGING_AUDIT_STRICT: True\n", "LOGGING_AUDIT_STRICT", 1, "LOGGING_AUDIT is off"},
		{"YAML seal key not a string", "settings.yaml", "LOGGING_AUDIT: True\nLOGGING_AUDIT_SEAL_KEY: [a]\n", "LOGGING_AUDIT_SEAL_KEY", 2, "must be a string, got a list"},
		{"YAML seal key with spaces", "settings.yaml", "LOGGING_AUDIT_SEAL_KEY: ' /k.key'\n", "LOGGING_AUDIT_SEAL_KEY", 1, "no surrounding spaces"},
		{"YAML negative seal every", "settings.yaml", "LOGGING_AUDIT_SEAL_KEY: /k.key\nLOGGING_AUDIT_SEAL_EVERY: -5\n", "LOGGING_AUDIT_SEAL_EVERY", 2, "must not be negative"},
		{"YAML bad seal interval", "settings.yaml", "LOGGING_AUDIT_SEAL_KEY: /k.key\nLOGGING_AUDIT_SEAL_INTERVAL: 10 minutes\n", "LOGGING_AUDIT_SEAL_INTERVAL", 2, `number of seconds or a duration like '30s', got "10 minutes"`},
		{"YAML seal interval list", "settings.yaml", "LOGGING_AUDIT_SEAL_INTERVAL: [1]\n", "LOGGING_AUDIT_SEAL_INTERVAL", 1, "got a list"},
		{"YAML seal every without key", "settings.yaml", "LOGGING_AUDIT: True\n\nLOGGING_AUDIT_SEAL_EVERY: 100\n", "LOGGING_AUDIT_SEAL_EVERY", 3, "LOGGING_AUDIT_SEAL_KEY is not set"},
		{"TOML seal interval without key", "settings.toml", "LOGGING_AUDIT = true\nLOGGING_AUDIT_SEAL_INTERVAL = '1m'\n", "LOGGING_AUDIT_SEAL_INTERVAL", 2, "LOGGING_AUDIT_SEAL_KEY is not set"},
		{"TOML negative seal interval", "settings.toml", "LOGGING_AUDIT_SEAL_KEY = '/k.key'\nLOGGING_AUDIT_SEAL_INTERVAL = -1\n", "LOGGING_AUDIT_SEAL_INTERVAL", 2, "must not be negative"},
		{"YAML strict buffered", "settings.yaml", "LOGGING_AUDIT: True\nLOGGING_AUDIT_STRICT: True\nLOGGING_AUDIT_DURABILITY: buffered\n", "LOGGING_AUDIT_STRICT", 2, "set LOGGING_AUDIT_DURABILITY to write or fsync, not buffered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkSettingError(t, writeFile(t, tt.file, tt.text), tt.key, tt.line, tt.msg)
		})
	}
}

func TestNotTOML(t *testing.T) {
	path := writeFile(t, "settings.toml", "LOGGING_AUDIT = true\n\nLOGGING_AUDIT_TIME = \n")
	_, err := config.Load(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+":3: not valid TOML") {
		t.Errorf("Load of broken TOML = %v, want an error at %s:3", err, path)
	}
}

// TestQuotedNumber follows Python's int(), which Psono applies to
// NUM_PROXIES.
func TestQuotedNumber(t *testing.T) {
	for text, want := range map[string]int{
		"NUM_PROXIES: 2": 2, `NUM_PROXIES: "2"`: 2, "NUM_PROXIES: ' 2 '": 2, "NUM_PROXIES: '+3'": 3,
		"NUM_PROXIES: '007'": 7, "NUM_PROXIES: '1_0'": 10, "NUM_PROXIES: 2.0": 2, "NUM_PROXIES: '0'": 0,
	} {
		s, err := config.Parse("s.yaml", []byte(text))
		if err != nil || s.NumProxies != want {
			t.Errorf("%s gives %d, %v; want %d", text, s.NumProxies, err, want)
		}
	}
	for _, text := range []string{"NUM_PROXIES: ''", "NUM_PROXIES: '2.0'", "NUM_PROXIES: '1__0'", "NUM_PROXIES: '_1'", "NUM_PROXIES: '0x10'", "NUM_PROXIES: '+-1'", "NUM_PROXIES: 2.5"} {
		if _, err := config.Parse("s.yaml", []byte(text)); err == nil {
			t.Errorf("%s: no error", text)
		}
	}
	path := writeFile(t, "settings.yaml", "LOGGING_AUDIT: True\n")
	t.Setenv("PSONO_NUM_PROXIES", `" 3 "`)
	if s, err := config.Load(path); err != nil || s.NumProxies != 3 {
		t.Errorf(`PSONO_NUM_PROXIES='" 3 "' gives %d, %v`, s.NumProxies, err)
	}
}

// TestEnvRules checks that a rule between keys names the environment
// variable that set LOGGING_AUDIT_STRICT.
func TestEnvRules(t *testing.T) {
	path := writeFile(t, "settings.yaml", "LOGGING_AUDIT: True\nLOGGING_AUDIT_DURABILITY: buffered\n")
	t.Setenv("PSONO_LOGGING_AUDIT_STRICT", "true")
	_, err := config.Load(path)
	var e *config.Error
	if !errors.As(err, &e) || e.Source != "environment variable PSONO_LOGGING_AUDIT_STRICT" || e.Key != "LOGGING_AUDIT_STRICT" || e.Line != 0 {
		t.Errorf("Load = %v, want an error of PSONO_LOGGING_AUDIT_STRICT", err)
	}
	t.Setenv("PSONO_LOGGING_AUDIT_DURABILITY", "fsync")
	if s, err := config.Load(path); err != nil || !s.Strict || s.Durability != exporter.Sync {
		t.Errorf("Load = %+v, %v; want strict with fsync", s, err)
	}
}

func TestLoadPsonoTOML(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", t.TempDir())
	t.Setenv("PSONO_HOME", home)
	dir := filepath.Join(home, ".psono_server")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	tomlPath := filepath.Join(dir, "settings.toml")
	if err := os.WriteFile(tomlPath, []byte("LOGGING_AUDIT = true\nLOGGING_AUDIT_FOLDER = '/t'\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := config.LoadPsono(); err != nil || s.Folder != "/t" || s.Source != tomlPath {
		t.Fatalf("LoadPsono with settings.toml alone = %+v, %v", s, err)
	}
	yamlPath := filepath.Join(dir, "settings.yaml")
	if err := os.WriteFile(yamlPath, []byte("LOGGING_AUDIT: True\nLOGGING_AUDIT_FOLDER: /y\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := config.LoadPsono(); err != nil || s.Folder != "/y" || s.Source != yamlPath {
		t.Fatalf("LoadPsono with both files = %+v, %v; want settings.yaml", s, err)
	}

	t.Setenv("PSONO_SERVER_SETTING_TOML_BASE64", base64.StdEncoding.EncodeToString([]byte("LOGGING_AUDIT = true\n\nNUM_PROXIES = -1\n")))
	_, err := config.LoadPsono()
	var e *config.Error
	if !errors.As(err, &e) || e.Source != "PSONO_SERVER_SETTING_TOML_BASE64" || e.Line != 3 {
		t.Fatalf("LoadPsono from TOML base64 = %v, want an error at PSONO_SERVER_SETTING_TOML_BASE64:3", err)
	}
	t.Setenv("PSONO_SERVER_SETTING_TOML_BASE64", base64.StdEncoding.EncodeToString([]byte("LOGGING_AUDIT = true\nLOGGING_AUDIT_FOLDER = '/b'\n")))
	if s, err := config.LoadPsono(); err != nil || s.Folder != "/b" || s.Source != "PSONO_SERVER_SETTING_TOML_BASE64" {
		t.Fatalf("LoadPsono from TOML base64 = %+v, %v", s, err)
	}
	t.Setenv("PSONO_SERVER_SETTING_BASE64", base64.StdEncoding.EncodeToString([]byte("LOGGING_AUDIT: True\nLOGGING_AUDIT_FOLDER: /a\n")))
	if s, err := config.LoadPsono(); err != nil || s.Folder != "/a" {
		t.Fatalf("LoadPsono with both base64 variables = %+v, %v; want the YAML one", s, err)
	}
}

func TestSearchPathsOrder(t *testing.T) {
	t.Setenv("PSONO_HOME", "/p")
	t.Setenv("HOME", "/h")
	want := []string{
		"/p/.psono_server/settings.yaml", "/p/.psono_server/settings.toml",
		"/h/.psono_server/settings.yaml", "/h/.psono_server/settings.toml",
		"/root/.psono_server/settings.yaml", "/root/.psono_server/settings.toml",
	}
	if got := config.SearchPaths(); !reflect.DeepEqual(got, want) {
		t.Errorf("SearchPaths = %q, want %q", got, want)
	}
}

func TestTimeSetting(t *testing.T) {
	for _, tt := range []struct {
		text string
		want config.TimeSetting
		loc  *time.Location
	}{{"time_utc", config.TimeUTC, time.UTC}, {"time_server", config.TimeServer, time.Local}} {
		got, err := config.ParseTime(tt.text)
		if err != nil || got != tt.want || got.String() != tt.text || got.Location() != tt.loc {
			t.Errorf("ParseTime(%q) = %v (%v), %v", tt.text, got, got.Location(), err)
		}
	}
	if _, err := config.ParseTime("UTC"); err == nil {
		t.Error("ParseTime(UTC): no error")
	}
	if config.Default().Time != config.TimeUTC {
		t.Error("the default time is not TimeUTC")
	}
}

// TestSealSettings reads the sealing keys in YAML, TOML and the environment,
// and checks that a problem with the key file, found only when it is read,
// names the setting and where it was set.
func TestSealSettings(t *testing.T) {
	for _, tt := range []struct {
		file, text string
		line       int
		every      int
		interval   time.Duration
	}{
		{"settings.yaml", "LOGGING_AUDIT: True\nLOGGING_AUDIT_SEAL_KEY: /etc/psono/audit.key\n", 2, config.DefaultSealEvery, config.DefaultSealInterval},
		{"settings.yaml", "LOGGING_AUDIT_SEAL_KEY: /etc/psono/audit.key\nLOGGING_AUDIT_SEAL_EVERY: 0\nLOGGING_AUDIT_SEAL_INTERVAL: 30\n", 1, 0, 30 * time.Second},
		{"settings.yaml", "LOGGING_AUDIT_SEAL_INTERVAL: '1m30s'\nLOGGING_AUDIT_SEAL_EVERY: '500'\nLOGGING_AUDIT_SEAL_KEY: /etc/psono/audit.key\n", 3, 500, 90 * time.Second},
		{"settings.toml", "LOGGING_AUDIT = true\n\nLOGGING_AUDIT_SEAL_KEY = '/etc/psono/audit.key'\nLOGGING_AUDIT_SEAL_INTERVAL = '0s'\n", 3, config.DefaultSealEvery, 0},
	} {
		path := writeFile(t, tt.file, tt.text)
		s, err := config.Load(path)
		if err != nil {
			t.Fatalf("%s: %v", tt.text, err)
		}
		if s.SealKey != "/etc/psono/audit.key" || s.SealEvery != tt.every || s.SealInterval != tt.interval {
			t.Errorf("%q: key %q, every %d, interval %v", tt.text, s.SealKey, s.SealEvery, s.SealInterval)
		}
		err = s.SealKeyError(os.ErrNotExist)
		var e *config.Error
		if !errors.As(err, &e) || e.Source != path || e.Line != tt.line || e.Key != "LOGGING_AUDIT_SEAL_KEY" || !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%q: SealKeyError = %v, want it at %s:%d", tt.text, err, path, tt.line)
		}
	}

	path := writeFile(t, "settings.yaml", "LOGGING_AUDIT: True\nLOGGING_AUDIT_SEAL_KEY: /a.key\n")
	t.Setenv("PSONO_LOGGING_AUDIT_SEAL_KEY", "/b.key")
	s, err := config.Load(path)
	if err != nil || s.SealKey != "/b.key" {
		t.Fatalf("with PSONO_LOGGING_AUDIT_SEAL_KEY: %+v, %v", s, err)
	}
	if got, want := s.SealKeyError(errors.New("x")).Error(), "environment variable PSONO_LOGGING_AUDIT_SEAL_KEY: LOGGING_AUDIT_SEAL_KEY: x"; got != want {
		t.Errorf("SealKeyError = %q, want %q", got, want)
	}
	if got, want := config.Default().SealKeyError(errors.New("x")).Error(), "settings: LOGGING_AUDIT_SEAL_KEY: x"; got != want {
		t.Errorf("SealKeyError of settings made in code = %q, want %q", got, want)
	}
}
