// Package config loads the audit settings from a Psono settings.yaml or
// settings.toml, found and overridden the way the Psono server finds and
// overrides it.
//
// The settings file is the whole server's: keys this package does not know
// are ignored, unless they look like a misspelled audit setting (see
// Load). A known key with a wrong value, and a combination of keys that
// cannot work as written, is an error of type *Error that names the file, the
// line and the key. Settings.Validate runs the same rules on settings made in
// code.
package config

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/otelaudit/otelaudit/durability"
	"github.com/otelaudit/otelaudit/psono"
)

// DefaultFolder is where audit.log is written when LOGGING_AUDIT_FOLDER is not
// set, as in Psono's server image.
const DefaultFolder = "/var/log/psono"

// The defaults of the settings that the file exporter and the middleware
// apply. They are the same as exporter.DefaultFileMode,
// exporter.DefaultDirMode, instrument.DefaultStrictMaxResponse and
// instrument.DefaultStrictMaxHeld (a test holds them equal), written here so
// that reading settings does not pull in the exporter, the middleware and
// the OpenTelemetry SDK.
const (
	DefaultFileMode          os.FileMode = 0o600
	DefaultFolderMode        os.FileMode = 0o700
	DefaultStrictMaxResponse             = 16 << 20
	DefaultStrictMaxHeld                 = 256 << 20
	// DefaultForwardSpoolMax is spool.DefaultMaxBytes.
	DefaultForwardSpoolMax int64 = 256 << 20
)

// Settings are the audit settings of a Psono settings file.
type Settings struct {
	// Enabled turns audit logging on (LOGGING_AUDIT, default false).
	Enabled bool
	// Folder holds audit.log (LOGGING_AUDIT_FOLDER, default DefaultFolder). A
	// relative folder is relative to the working directory.
	Folder string
	// Time is the time zone of the line times (LOGGING_AUDIT_TIME, default
	// TimeUTC).
	Time TimeSetting
	// Whitelist lists the events that are logged; empty means all
	// (LOGGING_AUDIT_WHITELIST). An entry ending in "*" is a prefix.
	Whitelist []string
	// Blacklist lists the events that are never logged
	// (LOGGING_AUDIT_BLACKLIST). An entry ending in "*" is a prefix.
	Blacklist []string
	// NumProxies is how many reverse proxies stand in front of the server
	// (NUM_PROXIES). 0, like an unset NUM_PROXIES in Psono, means the peer
	// address is the client IP.
	NumProxies int
	// TrustedIPHeader names a request header that a trusted proxy sets to the
	// client's IP, the way Django names it (TRUSTED_IP_HEADER, for example
	// HTTP_X_REAL_IP). Empty means none. See TrustedIPHeaderName.
	TrustedIPHeader string
	// TrustedIPHeaderOverwrite names a header, in the same form, that wins
	// over TrustedIPHeader when a request carries it
	// (TRUSTED_IP_HEADER_OVERWRITE). Empty means none.
	TrustedIPHeaderOverwrite string
	// Strict refuses requests while audit.log cannot be written and holds
	// each response back until its record is written
	// (LOGGING_AUDIT_STRICT, default false).
	Strict bool
	// StrictMaxResponse bounds, in bytes, one response strict mode holds
	// until its record is written (LOGGING_AUDIT_STRICT_MAX_RESPONSE, default
	// DefaultStrictMaxResponse); a larger one is answered 503.
	StrictMaxResponse int64
	// StrictMaxHeld bounds, in bytes, all responses strict mode holds at once
	// (LOGGING_AUDIT_STRICT_MAX_HELD, default DefaultStrictMaxHeld);
	// a write past it is answered 503.
	StrictMaxHeld int64
	// Durability says when a record counts as written
	// (LOGGING_AUDIT_DURABILITY: write, fsync or buffered; default write).
	Durability durability.Mode
	// FileMode is the permission audit.log is created with
	// (LOGGING_AUDIT_FILE_MODE, default 0600). An existing file keeps its
	// mode.
	FileMode os.FileMode
	// FolderMode is the permission a missing folder is created with
	// (LOGGING_AUDIT_FOLDER_MODE, default 0700).
	FolderMode os.FileMode
	// SealKey is the private key file (written by "otelaudit keygen") that
	// seals audit.log: signed checkpoints of its lines are kept beside it in
	// audit.log.checkpoints (LOGGING_AUDIT_SEAL_KEY; empty, the default,
	// means no sealing). See package seal. The file is read by otelaudit.New,
	// not when the settings are loaded; SealKeyError reports its problems.
	SealKey string
	// SealEvery is how many lines make a checkpoint sealed at once
	// (LOGGING_AUDIT_SEAL_EVERY, default 1000); 0 turns this off.
	SealEvery int
	// SealInterval is how often a checkpoint is sealed while lines are
	// written (LOGGING_AUDIT_SEAL_INTERVAL, seconds or a duration such as
	// '30s', default 10 seconds); 0 turns this off.
	SealInterval time.Duration
	// SealLogName is the log name the checkpoints carry, which "otelaudit
	// verify -log" expects (LOGGING_AUDIT_SEAL_LOG_NAME; empty, the
	// default, means seal.DefaultLogName: this host's name and the absolute
	// path of audit.log). Two hosts sealing with one key need two names.
	SealLogName string
	// ForwardSchema is what forwarded records carry
	// (LOGGING_AUDIT_FORWARD_SCHEMA, default "psono"): "psono" (today's
	// attributes, the Psono line as the body), "ocsf" (the OCSF 1.8.0 event
	// as the body) or "ecs" (ECS 9.4.0 attribute names). audit.log is the
	// same whatever it says.
	ForwardSchema string
	// ForwardQueue is how records bound for OTLP wait for the collector
	// (LOGGING_AUDIT_FORWARD_QUEUE): "spool" (the default), the durable
	// queue in LOGGING_AUDIT_FOLDER/audit.spool, or "memory", the bounded
	// in-memory forward.Queue (lost on a crash, gives up after its retry
	// window).
	ForwardQueue string
	// ForwardSpoolMax is the spool's disk budget in bytes
	// (LOGGING_AUDIT_FORWARD_SPOOL_MAX, default DefaultForwardSpoolMax).
	ForwardSpoolMax int64
	// sealKeyAt is where SealKey was set, for SealKeyError.
	sealKeyAt struct {
		source string
		line   int
	}
	// Source says where the settings came from: a file path,
	// "PSONO_SERVER_SETTING_BASE64" or "PSONO_SERVER_SETTING_TOML_BASE64";
	// empty for Default.
	Source string
}

// Default returns the settings Psono uses when a settings file sets none of
// the audit keys: audit logging off.
func Default() Settings {
	var s Settings
	for i := range keys {
		keys[i].reset(&s)
	}
	return s
}

// LogPath returns the path of audit.log.
func (s Settings) LogPath() string { return filepath.Join(s.Folder, "audit.log") }

// TrustedIPHeaderName returns the HTTP header named by TrustedIPHeader in its
// canonical form ("HTTP_CF_CONNECTING_IP" gives "Cf-Connecting-Ip"), or "" when
// none is set.
func (s Settings) TrustedIPHeaderName() string { return headerName(s.TrustedIPHeader) }

// TrustedIPHeaderOverwriteName returns the HTTP header named by
// TrustedIPHeaderOverwrite in its canonical form, or "" when none is set.
func (s Settings) TrustedIPHeaderOverwriteName() string {
	return headerName(s.TrustedIPHeaderOverwrite)
}

func headerName(django string) string {
	name, ok := strings.CutPrefix(django, "HTTP_")
	if !ok {
		return ""
	}
	return textproto.CanonicalMIMEHeaderKey(strings.ReplaceAll(name, "_", "-"))
}

// SealKeyError returns err, a problem with the key file SealKey names (found
// when it is read, at startup), as an *Error naming LOGGING_AUDIT_SEAL_KEY and
// the file and line, or the environment variable, that set it.
func (s Settings) SealKeyError(err error) error {
	source, line := s.sealKeyAt.source, s.sealKeyAt.line
	if source == "" {
		source = "settings"
	}
	return &Error{Source: source, Line: line, Key: sealKeyName, Err: err}
}

const sealKeyName = "LOGGING_AUDIT_SEAL_KEY"

// An Error reports a setting with a wrong value.
type Error struct {
	// Source is the settings file, "PSONO_SERVER_SETTING_BASE64",
	// "PSONO_SERVER_SETTING_TOML_BASE64", "environment variable
	// PSONO_<KEY>", or "settings" for settings made in code (see
	// Settings.Validate).
	Source string
	// Line is the line of the value in Source, or 0 when Source has no lines.
	Line int
	// Key is the setting, for example "LOGGING_AUDIT_TIME"; for a key that
	// is not a setting, the key as written.
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
var ErrNotFound = errors.New("no Psono settings.yaml or settings.toml found")

// SearchPaths returns where Psono looks for its settings file, in order: the
// folders $PSONO_HOME/.psono_server, ~/.psono_server and
// /root/.psono_server, and in each settings.yaml, then settings.toml.
func SearchPaths() []string {
	var dirs []string
	if h := os.Getenv("PSONO_HOME"); h != "" {
		dirs = append(dirs, filepath.Join(h, ".psono_server"))
	}
	if h, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(h, ".psono_server"))
	}
	dirs = append(dirs, "/root/.psono_server")
	var paths []string
	for _, d := range dirs {
		paths = append(paths, filepath.Join(d, "settings.yaml"), filepath.Join(d, "settings.toml"))
	}
	return paths
}

// The environment variables that hold a whole settings file, base64
// encoded. Both win over any file; when both are set, the YAML one wins, as
// settings.yaml wins over settings.toml in a folder.
const (
	base64Var     = "PSONO_SERVER_SETTING_BASE64"
	tomlBase64Var = "PSONO_SERVER_SETTING_TOML_BASE64"
)

// LoadPsono loads the settings the way Psono finds them: from the base64
// encoded YAML file in PSONO_SERVER_SETTING_BASE64 when that is set, else
// from the base64 encoded TOML file in PSONO_SERVER_SETTING_TOML_BASE64 when
// that is set, else from the first of SearchPaths that exists. PSONO_<KEY>
// environment variables override single keys (see Load). It returns an error
// wrapping ErrNotFound when there is no settings file.
//
// A base64 variable that is set but empty (or white space only) counts as
// unset, as in Psono: the settings files are read. One that decodes to an
// empty document is an error, never settings with audit logging off.
func LoadPsono() (Settings, error) {
	for _, v := range []struct {
		name  string
		parse parser
	}{{base64Var, parseYAML}, {tomlBase64Var, parseTOML}} {
		b64 := strings.TrimSpace(os.Getenv(v.name))
		if b64 == "" {
			continue
		}
		data, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return Settings{}, fmt.Errorf("%s is not valid base64: %w", v.name, err)
		}
		if len(bytes.TrimSpace(data)) == 0 {
			return Settings{}, fmt.Errorf("%s holds an empty settings document: set it to the base64 encoded settings file, or unset it to read the settings file (%s)", v.name, strings.Join(SearchPaths(), ", "))
		}
		return load(v.name, data, v.parse, osEnv)
	}
	paths := SearchPaths()
	for _, p := range paths {
		data, err := readSettings(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return Settings{}, err
		}
		return load(p, data, parserFor(p), osEnv)
	}
	return Settings{}, fmt.Errorf("%w (looked at %s; %s and %s are not set or empty)", ErrNotFound, strings.Join(paths, ", "), base64Var, tomlBase64Var)
}

// Load reads the settings file at path (TOML when its name ends in ".toml",
// else YAML), then applies the PSONO_<KEY> environment variables: each
// overrides its key, and its value is decoded as JSON when it is valid JSON
// (PSONO_LOGGING_AUDIT_WHITELIST='["A","B"]' gives a list) and taken as a
// string otherwise. Then it checks the result with Settings.Validate's rules.
//
// A file larger than MaxSettingsSize, or a TOML file nested deeper than
// MaxSettingsDepth, is refused before it is parsed.
//
// Keys the audit log does not know are the rest of the server's and are
// ignored, with two exceptions that would otherwise silently turn a feature
// off: a key starting with LOGGING_AUDIT, and a key a typing slip away from
// a setting (LOGGING_AUDIT_STRIKT, NUM_PROXYS, logging_audit). Both are an
// *Error naming the file and line, or the PSONO_<KEY> environment variable,
// and the setting probably meant.
func Load(path string) (Settings, error) {
	data, err := readSettings(path)
	if err != nil {
		return Settings{}, err
	}
	return load(path, data, parserFor(path), osEnv)
}

// Parse reads settings from the YAML document data as Load does; source
// names it in errors. It does not look at the environment.
func Parse(source string, data []byte) (Settings, error) {
	return load(source, data, parseYAML, environment{})
}

// ParseTOML reads settings from the TOML document data as Load does; source
// names it in errors. It does not look at the environment.
func ParseTOML(source string, data []byte) (Settings, error) {
	return load(source, data, parseTOML, environment{})
}

// An environment holds the PSONO_<KEY> overrides: lookup finds one
// variable, list returns them all as "NAME=value". The zero environment is
// empty.
type environment struct {
	lookup func(string) (string, bool)
	list   func() []string
}

// osEnv is the process's environment.
var osEnv = environment{os.LookupEnv, os.Environ}

// A parser reads a settings document. Besides the settings it returns where
// each key's value was found, for errors about a combination of keys.
type parser func(source string, data []byte) (Settings, locator, error)

// A locator returns the source and the line (0 when unknown) of key's value.
type locator func(key string) (source string, line int)

func parserFor(path string) parser {
	if strings.EqualFold(filepath.Ext(path), ".toml") {
		return parseTOML
	}
	return parseYAML
}

// load checks the size of data, parses it, applies the environment
// overrides in env, and validates the result.
func load(source string, data []byte, parse parser, env environment) (Settings, error) {
	if err := checkSize(source, data); err != nil {
		return Settings{}, err
	}
	s, at, err := parse(source, data)
	if err != nil {
		return Settings{}, err
	}
	if at, err = s.applyEnv(env, at); err != nil {
		return Settings{}, err
	}
	if err := s.validate(at); err != nil {
		return Settings{}, err
	}
	if s.SealKey != "" {
		s.sealKeyAt.source, s.sealKeyAt.line = at(sealKeyName)
	}
	return s, nil
}

func parseYAML(source string, data []byte) (Settings, locator, error) {
	s := Default()
	s.Source = source
	lines := map[string]int{}
	at := func(key string) (string, int) { return source, lines[key] }
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Settings{}, nil, fmt.Errorf("%s: not valid YAML: %w", source, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return s, at, nil // an empty file sets nothing
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return s, at, nil
	}
	if root.Kind != yaml.MappingNode {
		return Settings{}, nil, fmt.Errorf("%s:%d: settings must be a mapping of KEY: value", source, root.Line)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		key, ok := keyIndex[k.Value]
		if !ok {
			if err := unknownKey(k.Value); err != nil {
				return Settings{}, nil, &Error{Source: source, Line: k.Line, Key: k.Value, Err: err}
			}
			continue
		}
		lines[k.Value] = v.Line
		if err := key.apply(&s, yamlValue{v}); err != nil {
			return Settings{}, nil, &Error{Source: source, Line: v.Line, Key: k.Value, Err: err}
		}
	}
	return s, at, nil
}

// applyEnv applies the PSONO_<KEY> overrides in env, and returns at changed
// to name the environment variable of each key it overrode. A PSONO_ variable
// that looks like a misspelled setting is an error.
func (s *Settings) applyEnv(env environment, at locator) (locator, error) {
	if env.list != nil {
		if err := checkEnvNames(env.list()); err != nil {
			return nil, err
		}
	}
	if env.lookup == nil {
		return at, nil
	}
	var set map[string]bool
	for i := range keys {
		key := &keys[i]
		name := "PSONO_" + key.name
		raw, ok := env.lookup(name)
		if !ok {
			continue
		}
		var v any
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			v = raw
		}
		if err := key.apply(s, jsonValue{v}); err != nil {
			return nil, &Error{Source: "environment variable " + name, Key: key.name, Err: err}
		}
		if set == nil {
			set = map[string]bool{}
		}
		set[key.name] = true
	}
	if set == nil {
		return at, nil
	}
	return func(key string) (string, int) {
		if set[key] {
			return "environment variable PSONO_" + key, 0
		}
		return at(key)
	}, nil
}

// Validate reports the first setting in s that Load would refuse: a value
// a key cannot hold (an empty Folder, a lower-case whitelist entry, a
// negative NumProxies, a credential header as TrustedIPHeader, ...) or a
// combination that cannot work as written (Strict with buffered durability
// or with Enabled off, sealing settings without SealKey). Load, LoadPsono,
// Parse and ParseTOML apply exactly these rules, so settings they return are
// valid. The error is an *Error whose Key is the setting, with Source
// "settings" and no line: Validate does not know where a value came from.
//
// The zero Settings is not valid (it has no Folder); start from Default.
// Validate does not read the SealKey file: see SealKeyError.
func (s Settings) Validate() error {
	return s.validate(func(string) (string, int) { return "settings", 0 })
}

// validate applies each key's rule, then the rules between keys. Each error
// names the setting that cannot work as written, where at says it was set.
func (s Settings) validate(at locator) error {
	for i := range keys {
		k := &keys[i]
		if k.check == nil {
			continue
		}
		if err := k.check(s); err != nil {
			source, line := at(k.name)
			return &Error{Source: source, Line: line, Key: k.name, Err: err}
		}
	}
	if s.SealKey == "" {
		for _, k := range []struct {
			name string
			set  bool
		}{{"LOGGING_AUDIT_SEAL_EVERY", s.SealEvery != DefaultSealEvery}, {"LOGGING_AUDIT_SEAL_INTERVAL", s.SealInterval != DefaultSealInterval},
			{"LOGGING_AUDIT_SEAL_LOG_NAME", s.SealLogName != ""}} {
			if k.set {
				source, line := at(k.name)
				return &Error{Source: source, Line: line, Key: k.name,
					Err: errors.New("says when audit.log is sealed, but LOGGING_AUDIT_SEAL_KEY is not set, so it is not sealed; set it to a private key (otelaudit keygen), or remove this setting")}
			}
		}
	}
	var err error
	switch {
	case s.Strict && !s.Enabled:
		err = errors.New("strict mode is on but LOGGING_AUDIT is off, so nothing would be audited and nothing refused; turn LOGGING_AUDIT on, or remove LOGGING_AUDIT_STRICT")
	case s.Strict && s.Durability == durability.Buffered:
		err = errors.New("strict mode needs every record confirmed before its response: set LOGGING_AUDIT_DURABILITY to write or fsync, not buffered")
	default:
		return nil
	}
	source, line := at("LOGGING_AUDIT_STRICT")
	return &Error{Source: source, Line: line, Key: "LOGGING_AUDIT_STRICT", Err: err}
}

// validatePatterns checks whitelist and blacklist entries. Event codes are
// upper case, so an entry with a lower-case letter could never match: it is
// refused rather than silently logging everything or nothing.
func validatePatterns(list []string) error {
	for i, p := range list {
		if err := psono.ValidatePattern(p); err != nil {
			return fmt.Errorf("entry %d: %w", i+1, err)
		}
		if strings.ContainsFunc(p, unicode.IsLower) {
			return fmt.Errorf("entry %d: %q can never match, event codes are upper case; write %q", i+1, p, strings.ToUpper(p))
		}
	}
	return nil
}
