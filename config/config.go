// Package config loads the audit settings from a Psono settings.yaml, found
// and overridden the way the Psono server finds and overrides it.
//
// The settings file is the whole server's: keys this package does not know
// are ignored. A known key with a wrong value is an error of type *Error that
// names the key, the file and the line.
package config

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/otelaudit/otelaudit/exporter"
	"github.com/otelaudit/otelaudit/processor"
)

// The values LOGGING_AUDIT_TIME accepts.
const (
	// TimeUTC writes line times in UTC (Psono's default).
	TimeUTC = "time_utc"
	// TimeServer writes line times in the server's local time zone.
	TimeServer = "time_server"
)

// DefaultFolder is where audit.log is written when LOGGING_AUDIT_FOLDER is not
// set, as in Psono's server image.
const DefaultFolder = "/var/log/psono"

// The permissions audit.log and its folder are created with by default.
const (
	DefaultFileMode   os.FileMode = 0o600
	DefaultFolderMode os.FileMode = 0o700
)

// Settings are the audit settings of a Psono settings.yaml.
type Settings struct {
	// Enabled turns audit logging on (LOGGING_AUDIT, default false).
	Enabled bool
	// Folder holds audit.log (LOGGING_AUDIT_FOLDER, default DefaultFolder). A
	// relative folder is relative to the working directory.
	Folder string
	// Time is TimeUTC or TimeServer (LOGGING_AUDIT_TIME, default TimeUTC).
	Time string
	// Whitelist lists the events that are logged; empty means all
	// (LOGGING_AUDIT_WHITELIST). An entry ending in "*" is a prefix.
	Whitelist []string
	// Blacklist lists the events that are never logged
	// (LOGGING_AUDIT_BLACKLIST). An entry ending in "*" is a prefix.
	Blacklist []string
	// NumProxies is how many reverse proxies stand in front of the server
	// (NUM_PROXIES). It is meaningful only when NumProxiesSet is true.
	NumProxies int
	// NumProxiesSet reports whether NUM_PROXIES was given.
	NumProxiesSet bool
	// TrustedIPHeader names a request header that a trusted proxy sets to the
	// client's IP, the way Django names it (TRUSTED_IP_HEADER, for example
	// HTTP_X_REAL_IP). Empty means none. See TrustedIPHeaderName.
	TrustedIPHeader string
	// Strict refuses requests while audit.log cannot be written and holds
	// each response back until its record is written
	// (LOGGING_AUDIT_STRICT, default false).
	Strict bool
	// Durability says when a record counts as written
	// (LOGGING_AUDIT_DURABILITY: write, fsync or buffered; default write).
	Durability exporter.Durability
	// FileMode is the permission audit.log is created with
	// (LOGGING_AUDIT_FILE_MODE, default 0600). An existing file keeps its
	// mode.
	FileMode os.FileMode
	// FolderMode is the permission a missing folder is created with
	// (LOGGING_AUDIT_FOLDER_MODE, default 0700).
	FolderMode os.FileMode
	// Source says where the settings came from: a file path or
	// "PSONO_SERVER_SETTING_BASE64"; empty for Default.
	Source string
}

// Default returns the settings Psono uses when a settings file sets none of
// the audit keys: audit logging off.
func Default() Settings {
	return Settings{Folder: DefaultFolder, Time: TimeUTC, FileMode: DefaultFileMode, FolderMode: DefaultFolderMode}
}

// LogPath returns the path of audit.log.
func (s Settings) LogPath() string { return filepath.Join(s.Folder, "audit.log") }

// TrustedIPHeaderName returns the HTTP header named by TrustedIPHeader in its
// canonical form ("HTTP_CF_CONNECTING_IP" gives "Cf-Connecting-Ip"), or "" when
// none is set.
func (s Settings) TrustedIPHeaderName() string {
	name, ok := strings.CutPrefix(s.TrustedIPHeader, "HTTP_")
	if !ok {
		return ""
	}
	return textproto.CanonicalMIMEHeaderKey(strings.ReplaceAll(name, "_", "-"))
}

// An Error reports a setting with a wrong value.
type Error struct {
	// Source is the settings file, "PSONO_SERVER_SETTING_BASE64", or
	// "environment variable PSONO_<KEY>".
	Source string
	// Line is the line of the value in Source, or 0 when Source has no lines.
	Line int
	// Key is the setting, for example "LOGGING_AUDIT_TIME".
	Key string
	// Err says what is wrong.
	Err error
}

// Error returns "source:line: KEY: problem", or without the line when it is
// not known.
func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s: %v", e.Source, e.Line, e.Key, e.Err)
	}
	return fmt.Sprintf("%s: %s: %v", e.Source, e.Key, e.Err)
}

// Unwrap returns the underlying error, for errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Err }

// ErrNotFound is returned by LoadPsono when no settings file is found.
var ErrNotFound = errors.New("no Psono settings.yaml found")

// SearchPaths returns where Psono looks for settings.yaml, in order:
// $PSONO_HOME/.psono_server/settings.yaml, then ~/.psono_server/settings.yaml,
// then /root/.psono_server/settings.yaml.
func SearchPaths() []string {
	var paths []string
	if h := os.Getenv("PSONO_HOME"); h != "" {
		paths = append(paths, filepath.Join(h, ".psono_server", "settings.yaml"))
	}
	if h, err := os.UserHomeDir(); err == nil {
		paths = append(paths, filepath.Join(h, ".psono_server", "settings.yaml"))
	}
	paths = append(paths, "/root/.psono_server/settings.yaml")
	return paths
}

// LoadPsono loads the settings the way Psono finds them: from the base64
// encoded file in PSONO_SERVER_SETTING_BASE64 when that is set, else from the
// first of SearchPaths that exists. PSONO_<KEY> environment variables override
// single keys (see Load). It returns an error wrapping ErrNotFound when there
// is no settings file.
func LoadPsono() (Settings, error) {
	if b64, ok := os.LookupEnv("PSONO_SERVER_SETTING_BASE64"); ok {
		data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
		if err != nil {
			return Settings{}, fmt.Errorf("PSONO_SERVER_SETTING_BASE64 is not valid base64: %w", err)
		}
		return parseWithEnv("PSONO_SERVER_SETTING_BASE64", data)
	}
	paths := SearchPaths()
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return Settings{}, fmt.Errorf("reading settings: %w", err)
		}
		return parseWithEnv(p, data)
	}
	return Settings{}, fmt.Errorf("%w (looked at %s; PSONO_SERVER_SETTING_BASE64 is not set)", ErrNotFound, strings.Join(paths, ", "))
}

// Load reads the settings file at path, then applies the PSONO_<KEY>
// environment variables: each overrides its key, and its value is decoded as
// JSON when it is valid JSON (PSONO_LOGGING_AUDIT_WHITELIST='["A","B"]' gives
// a list) and taken as a string otherwise.
func Load(path string) (Settings, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Settings{}, fmt.Errorf("reading settings: %w", err)
	}
	return parseWithEnv(path, data)
}

func parseWithEnv(source string, data []byte) (Settings, error) {
	s, err := Parse(source, data)
	if err != nil {
		return Settings{}, err
	}
	if err := s.applyEnv(os.LookupEnv); err != nil {
		return Settings{}, err
	}
	return s, nil
}

// Parse reads settings from the YAML document data; source names it in
// errors. It does not look at the environment.
func Parse(source string, data []byte) (Settings, error) {
	s := Default()
	s.Source = source
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Settings{}, fmt.Errorf("%s: not valid YAML: %w", source, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return s, nil // an empty file sets nothing
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return s, nil
	}
	if root.Kind != yaml.MappingNode {
		return Settings{}, fmt.Errorf("%s:%d: settings must be a mapping of KEY: value", source, root.Line)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		set, ok := setters[k.Value]
		if !ok {
			continue
		}
		if err := set(&s, yamlValue{v}); err != nil {
			return Settings{}, &Error{Source: source, Line: v.Line, Key: k.Value, Err: err}
		}
	}
	return s, nil
}

// applyEnv applies the PSONO_<KEY> overrides found by lookup.
func (s *Settings) applyEnv(lookup func(string) (string, bool)) error {
	for _, key := range keys {
		name := "PSONO_" + key
		raw, ok := lookup(name)
		if !ok {
			continue
		}
		var v any
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			v = raw
		}
		if err := setters[key](s, jsonValue{v}); err != nil {
			return &Error{Source: "environment variable " + name, Key: key, Err: err}
		}
	}
	return nil
}

// validatePatterns checks whitelist and blacklist entries.
func validatePatterns(list []string) error {
	for i, p := range list {
		if err := processor.ValidatePattern(p); err != nil {
			return fmt.Errorf("entry %d: %w", i+1, err)
		}
	}
	return nil
}
