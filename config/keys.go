package config

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/otelaudit/otelaudit/durability"
	"github.com/otelaudit/otelaudit/seal"
)

// TimeSetting is the value of LOGGING_AUDIT_TIME: the time zone of the
// times in audit.log.
type TimeSetting int

const (
	// TimeUTC writes line times in UTC (time_utc, Psono's default).
	TimeUTC TimeSetting = iota
	// TimeServer writes line times in the server's local time zone
	// (time_server).
	TimeServer
)

// ParseTime returns the TimeSetting named "time_utc" or "time_server".
// Psono pastes any other value into its format string and loses every line;
// here it is an error.
func ParseTime(s string) (TimeSetting, error) {
	switch s {
	case "time_utc":
		return TimeUTC, nil
	case "time_server":
		return TimeServer, nil
	}
	return 0, fmt.Errorf("unknown value %q; want time_utc or time_server", s)
}

// String returns the setting's value for t: "time_utc" or "time_server".
func (t TimeSetting) String() string {
	switch t {
	case TimeUTC:
		return "time_utc"
	case TimeServer:
		return "time_server"
	}
	return fmt.Sprintf("TimeSetting(%d)", int(t))
}

// Location returns the time zone of t: time.UTC for TimeUTC, time.Local for
// TimeServer.
func (t TimeSetting) Location() *time.Location {
	if t == TimeServer {
		return time.Local
	}
	return time.UTC
}

// A key is one setting: its name, its default, how a value sets it, and the
// rule its field must follow. A null value (YAML ~ or null, JSON null)
// restores the default, as an absent key does.
type key struct {
	name string
	// reset sets the field to its default.
	reset func(*Settings)
	// set sets the field from a value that is not null. It refuses a value
	// of the wrong type or form; what the field may hold is check's.
	set func(*Settings, value) error
	// check reports what is wrong with the field's value, wherever it came
	// from: a settings file, the environment or code (Settings.Validate).
	// Nil means any value of the field's type is right.
	check func(Settings) error
}

// keys are the settings this package reads, in the order they are
// documented. Default, the settings files and the PSONO_<KEY> environment
// variables all go through this one table.
var keys = []key{
	{"LOGGING_AUDIT",
		func(s *Settings) { s.Enabled = false },
		func(s *Settings, v value) (err error) { s.Enabled, err = v.boolean(); return err },
		nil},
	{"LOGGING_AUDIT_FOLDER",
		func(s *Settings) { s.Folder = DefaultFolder },
		func(s *Settings, v value) (err error) { s.Folder, err = v.str(); return err },
		func(s Settings) error {
			if s.Folder == "" {
				return errors.New("must name a folder, not be empty")
			}
			return nil
		}},
	{"LOGGING_AUDIT_TIME",
		func(s *Settings) { s.Time = TimeUTC },
		func(s *Settings, v value) error {
			t, err := v.str()
			if err != nil {
				return err
			}
			s.Time, err = ParseTime(t)
			return err
		},
		func(s Settings) error { _, err := ParseTime(s.Time.String()); return err }},
	{"LOGGING_AUDIT_WHITELIST",
		func(s *Settings) { s.Whitelist = nil },
		func(s *Settings, v value) (err error) { s.Whitelist, err = v.strings(); return err },
		func(s Settings) error { return validatePatterns(s.Whitelist) }},
	{"LOGGING_AUDIT_BLACKLIST",
		func(s *Settings) { s.Blacklist = nil },
		func(s *Settings, v value) (err error) { s.Blacklist, err = v.strings(); return err },
		func(s Settings) error { return validatePatterns(s.Blacklist) }},
	{"NUM_PROXIES",
		func(s *Settings) { s.NumProxies = 0 },
		func(s *Settings, v value) (err error) { s.NumProxies, err = v.integer(); return err },
		func(s Settings) error {
			if s.NumProxies < 0 {
				return fmt.Errorf("must not be negative, got %d", s.NumProxies)
			}
			return nil
		}},
	{"TRUSTED_IP_HEADER",
		func(s *Settings) { s.TrustedIPHeader = "" },
		func(s *Settings, v value) (err error) { s.TrustedIPHeader, err = v.str(); return err },
		func(s Settings) error { return checkHeader(s.TrustedIPHeader) }},
	{"TRUSTED_IP_HEADER_OVERWRITE",
		func(s *Settings) { s.TrustedIPHeaderOverwrite = "" },
		func(s *Settings, v value) (err error) { s.TrustedIPHeaderOverwrite, err = v.str(); return err },
		func(s Settings) error { return checkHeader(s.TrustedIPHeaderOverwrite) }},
	{"LOGGING_AUDIT_STRICT",
		func(s *Settings) { s.Strict = false },
		func(s *Settings, v value) (err error) { s.Strict, err = v.boolean(); return err },
		nil},
	{"LOGGING_AUDIT_STRICT_MAX_RESPONSE",
		func(s *Settings) { s.StrictMaxResponse = DefaultStrictMaxResponse },
		func(s *Settings, v value) (err error) { s.StrictMaxResponse, err = int64Value(v); return err },
		func(s Settings) error { return checkByteCount(s.StrictMaxResponse) }},
	{"LOGGING_AUDIT_STRICT_MAX_HELD",
		func(s *Settings) { s.StrictMaxHeld = DefaultStrictMaxHeld },
		func(s *Settings, v value) (err error) { s.StrictMaxHeld, err = int64Value(v); return err },
		func(s Settings) error { return checkByteCount(s.StrictMaxHeld) }},
	{"LOGGING_AUDIT_DURABILITY",
		func(s *Settings) { s.Durability = durability.Write },
		func(s *Settings, v value) error {
			d, err := v.str()
			if err != nil {
				return err
			}
			s.Durability, err = durability.Parse(d)
			return err
		},
		func(s Settings) error { _, err := durability.Parse(s.Durability.String()); return err }},
	{"LOGGING_AUDIT_FILE_MODE",
		func(s *Settings) { s.FileMode = DefaultFileMode },
		func(s *Settings, v value) (err error) { s.FileMode, err = parseMode(v); return err },
		func(s Settings) error { return checkMode(s.FileMode) }},
	{"LOGGING_AUDIT_FOLDER_MODE",
		func(s *Settings) { s.FolderMode = DefaultFolderMode },
		func(s *Settings, v value) (err error) { s.FolderMode, err = parseMode(v); return err },
		func(s Settings) error { return checkMode(s.FolderMode) }},
	{sealKeyName,
		func(s *Settings) { s.SealKey = "" },
		func(s *Settings, v value) (err error) { s.SealKey, err = v.str(); return err },
		func(s Settings) error {
			if p := s.SealKey; strings.TrimSpace(p) != p || strings.ContainsAny(p, "\n\r") {
				return fmt.Errorf("%q: the path of a private key file has no surrounding spaces or line breaks", p)
			}
			return nil
		}},
	{"LOGGING_AUDIT_SEAL_EVERY",
		func(s *Settings) { s.SealEvery = DefaultSealEvery },
		func(s *Settings, v value) (err error) { s.SealEvery, err = v.integer(); return err },
		func(s Settings) error {
			if s.SealEvery < 0 {
				return fmt.Errorf("must not be negative (0 turns it off), got %d", s.SealEvery)
			}
			return nil
		}},
	{"LOGGING_AUDIT_SEAL_INTERVAL",
		func(s *Settings) { s.SealInterval = DefaultSealInterval },
		func(s *Settings, v value) (err error) { s.SealInterval, err = parseSeconds(v); return err },
		func(s Settings) error {
			if s.SealInterval < 0 {
				return fmt.Errorf("must not be negative (0 turns it off), got %s", s.SealInterval)
			}
			return nil
		}},
	{"LOGGING_AUDIT_FORWARD_SCHEMA",
		func(s *Settings) { s.ForwardSchema = "psono" },
		func(s *Settings, v value) (err error) { s.ForwardSchema, err = v.str(); return err },
		func(s Settings) error {
			switch s.ForwardSchema {
			case "", "psono", "ocsf", "ecs": // "": built by hand, psono
				return nil
			}
			return fmt.Errorf("%q: want psono, ocsf or ecs", s.ForwardSchema)
		}},
	{"LOGGING_AUDIT_FORWARD_QUEUE",
		func(s *Settings) { s.ForwardQueue = "spool" },
		func(s *Settings, v value) (err error) { s.ForwardQueue, err = v.str(); return err },
		func(s Settings) error {
			switch s.ForwardQueue {
			case "", "spool", "memory": // "": built by hand, spool
				return nil
			}
			return fmt.Errorf("%q: want spool or memory", s.ForwardQueue)
		}},
	{"LOGGING_AUDIT_FORWARD_SPOOL_MAX",
		func(s *Settings) { s.ForwardSpoolMax = DefaultForwardSpoolMax },
		func(s *Settings, v value) (err error) { s.ForwardSpoolMax, err = int64Value(v); return err },
		func(s Settings) error { return checkByteCount(s.ForwardSpoolMax) }},
	{"LOGGING_AUDIT_SEAL_LOG_NAME",
		func(s *Settings) { s.SealLogName = "" },
		func(s *Settings, v value) error {
			name, err := v.str()
			if err != nil {
				return err
			}
			if name == "" { // empty in a file: a mistake; unset means the default
				return fmt.Errorf("%q: a log name is printable text without spaces or '+', such as psono-1.example.com/var/log/psono/audit.log; remove the setting for the default", name)
			}
			s.SealLogName = name
			return nil
		},
		func(s Settings) error {
			if name := s.SealLogName; strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r == '+' || r == 0x7f }) {
				return fmt.Errorf("%q: a log name is printable text without spaces or '+', such as psono-1.example.com/var/log/psono/audit.log", name)
			}
			return nil
		}},
}

// The defaults of LOGGING_AUDIT_SEAL_EVERY and LOGGING_AUDIT_SEAL_INTERVAL:
// those of package seal.
const (
	DefaultSealEvery    = seal.DefaultEvery
	DefaultSealInterval = seal.DefaultInterval
)

// parseSeconds reads a time span: a whole number of seconds (10 or '10') or
// a Go duration ('30s', '1m30s').
func parseSeconds(v value) (time.Duration, error) {
	var d time.Duration
	if n, err := v.integer(); err == nil {
		d = time.Duration(n) * time.Second
	} else {
		s, err := v.str()
		if err != nil {
			return 0, fmt.Errorf("must be a number of seconds or a duration like '30s', got %s", strings.TrimPrefix(err.Error(), "must be a string, got "))
		}
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("must be a number of seconds or a duration like '30s', got %q", s)
		}
	}
	return d, nil
}

// keyIndex finds a key of the table by name.
var keyIndex = func() map[string]*key {
	m := make(map[string]*key, len(keys))
	for i := range keys {
		m[keys[i].name] = &keys[i]
	}
	return m
}()

// apply sets k from v (the default when v is null) and checks the result.
func (k *key) apply(s *Settings, v value) error {
	if v.isNull() {
		k.reset(s)
		return nil
	}
	if err := k.set(s, v); err != nil {
		return err
	}
	if k.check != nil {
		return k.check(*s)
	}
	return nil
}

// int64Value reads a whole number.
func int64Value(v value) (int64, error) {
	n, err := v.integer()
	return int64(n), err
}

// checkByteCount requires a positive number of bytes.
func checkByteCount(n int64) error {
	if n <= 0 {
		return fmt.Errorf("must be a positive number of bytes, got %d", n)
	}
	return nil
}

// checkMode requires permission bits alone, as parseMode reads them.
func checkMode(m os.FileMode) error {
	if m&^os.ModePerm != 0 {
		return fmt.Errorf("must be an octal permission like '0600', got %v", m)
	}
	return nil
}

// parseMode reads a permission like 0640 or '0640' (octal, as chmod takes it).
func parseMode(v value) (os.FileMode, error) {
	s, ok := v.scalar()
	if ok {
		m, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(s, "0o"), "0"), 8, 32)
		if err == nil && m <= 0o777 {
			return os.FileMode(m), nil
		}
	}
	return 0, fmt.Errorf("must be an octal permission like '0600', got %s", s)
}

// credentialWords are parts of header names that carry secrets. A client-IP
// header whose name holds one of them is refused: its value would be written
// into audit.log. This catches HTTP_AUTHORIZATION, HTTP_PROXY_AUTHORIZATION,
// HTTP_COOKIE, HTTP_SET_COOKIE, HTTP_X_API_KEY, HTTP_X_AUTH_TOKEN,
// HTTP_X_CSRFTOKEN and the like.
var credentialWords = []string{"AUTH", "COOKIE", "TOKEN", "API_KEY", "APIKEY", "SECRET", "PASSWORD", "SESSION", "CSRF", "XSRF", "SIGNATURE"}

// checkHeader checks TRUSTED_IP_HEADER or TRUSTED_IP_HEADER_OVERWRITE: a
// request header in Django's form, or empty for none.
func checkHeader(h string) error {
	if h == "" {
		return nil
	}
	name, ok := strings.CutPrefix(h, "HTTP_")
	if !ok || name == "" || strings.Trim(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != "" {
		return fmt.Errorf("%q is not a request header in Django's form; write it like HTTP_X_REAL_IP for the X-Real-IP header", h)
	}
	for _, w := range credentialWords {
		if strings.Contains(name, w) {
			return fmt.Errorf("%s carries credentials, not a client IP: its value would be written into audit.log; name the header your proxy sets to the client IP, like HTTP_X_REAL_IP", h)
		}
	}
	return nil
}
