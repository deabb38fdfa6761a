package config_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/exporter"
)

// TestValidate checks that Settings.Validate refuses what Load refuses,
// with the same words, for settings made in code: each case changes
// Default() as the YAML text (when there is one) would, and Load of that
// text must fail with the same problem for the same key.
func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*config.Settings)
		yaml   string // settings.yaml with the same problem; "" when YAML cannot say it
		key    string
		msg    string
	}{
		{"empty folder", func(s *config.Settings) { s.Folder = "" },
			"LOGGING_AUDIT_FOLDER: ''\n", "LOGGING_AUDIT_FOLDER", "must name a folder"},
		{"unknown time", func(s *config.Settings) { s.Time = config.TimeSetting(7) },
			"", "LOGGING_AUDIT_TIME", `unknown value "TimeSetting(7)"`},
		{"lower-case whitelist entry", func(s *config.Settings) { s.Whitelist = []string{"READ_INFO_SUCCESS", "login_*"} },
			"LOGGING_AUDIT_WHITELIST: [READ_INFO_SUCCESS, 'login_*']\n", "LOGGING_AUDIT_WHITELIST", `entry 2: "login_*" can never match`},
		{"bad blacklist pattern", func(s *config.Settings) { s.Blacklist = []string{"LOG*IN"} },
			"LOGGING_AUDIT_BLACKLIST: ['LOG*IN']\n", "LOGGING_AUDIT_BLACKLIST", "'*' is allowed only at the end"},
		{"negative proxies", func(s *config.Settings) { s.NumProxies = -1 },
			"NUM_PROXIES: -1\n", "NUM_PROXIES", "must not be negative, got -1"},
		{"header form", func(s *config.Settings) { s.TrustedIPHeader = "X-Real-IP" },
			"TRUSTED_IP_HEADER: X-Real-IP\n", "TRUSTED_IP_HEADER", "not a request header in Django's form"},
		{"credential header", func(s *config.Settings) { s.TrustedIPHeaderOverwrite = "HTTP_AUTHORIZATION" },
			"TRUSTED_IP_HEADER_OVERWRITE: HTTP_AUTHORIZATION\n", "TRUSTED_IP_HEADER_OVERWRITE", "carries credentials"},
		{"zero response bound", func(s *config.Settings) { s.StrictMaxResponse = 0 },
			"LOGGING_AUDIT_STRICT_MAX_RESPONSE: 0\n", "LOGGING_AUDIT_STRICT_MAX_RESPONSE", "must be a positive number of bytes, got 0"},
		{"negative held bound", func(s *config.Settings) { s.StrictMaxHeld = -5 },
			"LOGGING_AUDIT_STRICT_MAX_HELD: -5\n", "LOGGING_AUDIT_STRICT_MAX_HELD", "must be a positive number of bytes, got -5"},
		{"unknown durability", func(s *config.Settings) { s.Durability = exporter.Durability(9) },
			"", "LOGGING_AUDIT_DURABILITY", "unknown durability"},
		{"file mode with type bits", func(s *config.Settings) { s.FileMode = os.ModeDir | 0o600 },
			"", "LOGGING_AUDIT_FILE_MODE", "must be an octal permission"},
		{"folder mode with setuid", func(s *config.Settings) { s.FolderMode = os.ModeSetuid | 0o700 },
			"", "LOGGING_AUDIT_FOLDER_MODE", "must be an octal permission"},
		{"key path with a space", func(s *config.Settings) { s.SealKey = "/k.key " },
			"LOGGING_AUDIT_SEAL_KEY: '/k.key '\n", "LOGGING_AUDIT_SEAL_KEY", "no surrounding spaces"},
		{"negative seal every", func(s *config.Settings) { s.SealKey, s.SealEvery = "/k.key", -1 },
			"LOGGING_AUDIT_SEAL_KEY: /k.key\nLOGGING_AUDIT_SEAL_EVERY: -1\n", "LOGGING_AUDIT_SEAL_EVERY", "must not be negative"},
		{"negative seal interval", func(s *config.Settings) { s.SealKey, s.SealInterval = "/k.key", -time.Second },
			"LOGGING_AUDIT_SEAL_KEY: /k.key\nLOGGING_AUDIT_SEAL_INTERVAL: -1\n", "LOGGING_AUDIT_SEAL_INTERVAL", "must not be negative"},
		{"log name with a space", func(s *config.Settings) { s.SealKey, s.SealLogName = "/k.key", "a b" },
			"LOGGING_AUDIT_SEAL_KEY: /k.key\nLOGGING_AUDIT_SEAL_LOG_NAME: a b\n", "LOGGING_AUDIT_SEAL_LOG_NAME", "printable text without spaces"},
		{"seal every without key", func(s *config.Settings) { s.SealEvery = 10 },
			"LOGGING_AUDIT_SEAL_EVERY: 10\n", "LOGGING_AUDIT_SEAL_EVERY", "LOGGING_AUDIT_SEAL_KEY is not set"},
		{"seal interval without key", func(s *config.Settings) { s.SealInterval = time.Minute },
			"LOGGING_AUDIT_SEAL_INTERVAL: 60\n", "LOGGING_AUDIT_SEAL_INTERVAL", "LOGGING_AUDIT_SEAL_KEY is not set"},
		{"log name without key", func(s *config.Settings) { s.SealLogName = "host/audit.log" },
			"LOGGING_AUDIT_SEAL_LOG_NAME: host/audit.log\n", "LOGGING_AUDIT_SEAL_LOG_NAME", "LOGGING_AUDIT_SEAL_KEY is not set"},
		{"strict without audit", func(s *config.Settings) { s.Strict = true },
			"LOGGING_AUDIT_STRICT: True\n", "LOGGING_AUDIT_STRICT", "LOGGING_AUDIT is off"},
		{"strict with buffered durability", func(s *config.Settings) { s.Enabled, s.Strict, s.Durability = true, true, exporter.Buffered },
			"LOGGING_AUDIT: True\nLOGGING_AUDIT_STRICT: True\nLOGGING_AUDIT_DURABILITY: buffered\n", "LOGGING_AUDIT_STRICT", "not buffered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := config.Default()
			tt.change(&s)
			err := s.Validate()
			var e *config.Error
			if !errors.As(err, &e) || e.Source != "settings" || e.Line != 0 || e.Key != tt.key || !strings.Contains(e.Err.Error(), tt.msg) {
				t.Fatalf("Validate = %v, want an error of settings for %s saying %q", err, tt.key, tt.msg)
			}
			if want := "settings: " + tt.key + ": "; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Validate = %q, want it to start %q", err, want)
			}
			if tt.yaml == "" {
				return
			}
			_, lerr := config.Load(writeSettings(t, tt.yaml))
			var le *config.Error
			if !errors.As(lerr, &le) || le.Key != tt.key || le.Line == 0 {
				t.Fatalf("Load of %q = %v, want an error for %s with its line", tt.yaml, lerr, tt.key)
			}
			if !strings.Contains(le.Err.Error(), tt.msg) {
				t.Errorf("Load says %q, Validate says %q", le.Err, e.Err)
			}
		})
	}

	for _, tt := range []struct {
		name   string
		change func(*config.Settings)
	}{
		{"Default", func(*config.Settings) {}},
		{"strict", func(s *config.Settings) { s.Enabled, s.Strict = true, true }},
		{"sealed", func(s *config.Settings) { s.SealKey, s.SealEvery, s.SealLogName = "/k.key", 0, "h/a.log" }},
	} {
		s := config.Default()
		tt.change(&s)
		if err := s.Validate(); err != nil {
			t.Errorf("Validate of %s settings: %v", tt.name, err)
		}
	}
	if err := (config.Settings{}).Validate(); err == nil {
		t.Error("Validate of the zero Settings: no error; it has no folder")
	}
	loaded, err := config.Load(writeSettings(t, "LOGGING_AUDIT: True\nLOGGING_AUDIT_STRICT: True\nLOGGING_AUDIT_WHITELIST: ['LOGIN_*']\nLOGGING_AUDIT_SEAL_KEY: /k.key\nLOGGING_AUDIT_SEAL_EVERY: 5\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := loaded.Validate(); err != nil {
		t.Errorf("Validate of loaded settings: %v", err)
	}
}
