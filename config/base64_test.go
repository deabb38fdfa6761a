package config_test

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otelaudit/otelaudit/config"
)

// psonoHome makes a PSONO_HOME holding .psono_server/name with text, and
// returns the file's path.
func psonoHome(t *testing.T, name, text string) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", t.TempDir())
	t.Setenv("PSONO_HOME", home)
	dir := filepath.Join(home, ".psono_server")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestEmptyBase64Variable checks that a base64 settings variable that is set
// but empty counts as unset, as in Psono, instead of giving an empty
// settings document with audit logging off; and that one holding an empty
// document is an error.
func TestEmptyBase64Variable(t *testing.T) {
	for _, name := range []string{"PSONO_SERVER_SETTING_BASE64", "PSONO_SERVER_SETTING_TOML_BASE64"} {
		for _, value := range []string{"", " ", "\n"} {
			t.Run(name+"="+strings.ReplaceAll(value, "\n", `\n`), func(t *testing.T) {
				path := psonoHome(t, "settings.yaml", "LOGGING_AUDIT: True\nLOGGING_AUDIT_FOLDER: /from-file\n")
				t.Setenv(name, value)
				s, err := config.LoadPsono()
				if err != nil || !s.Enabled || s.Folder != "/from-file" || s.Source != path {
					t.Errorf("LoadPsono = %+v, %v; want the settings of %s", s, err, path)
				}
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
				if _, err := config.LoadPsono(); !errors.Is(err, config.ErrNotFound) || !strings.Contains(err.Error(), "not set or empty") {
					t.Errorf("LoadPsono with no file = %v, want ErrNotFound", err)
				}
			})
		}
		t.Run(name+" holds an empty document", func(t *testing.T) {
			psonoHome(t, "settings.yaml", "LOGGING_AUDIT: True\n")
			t.Setenv(name, base64.StdEncoding.EncodeToString([]byte(" \n\n")))
			if s, err := config.LoadPsono(); err == nil || !strings.HasPrefix(err.Error(), name+" holds an empty settings document") {
				t.Errorf("LoadPsono = %+v, %v; want an error naming %s", s, err, name)
			}
		})
	}
}
