package config

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/otelaudit/otelaudit/exporter"
)

// keys are the settings this package reads, in the order they are documented.
var keys = []string{
	"LOGGING_AUDIT",
	"LOGGING_AUDIT_FOLDER",
	"LOGGING_AUDIT_TIME",
	"LOGGING_AUDIT_WHITELIST",
	"LOGGING_AUDIT_BLACKLIST",
	"NUM_PROXIES",
	"TRUSTED_IP_HEADER",
	"LOGGING_AUDIT_STRICT",
	"LOGGING_AUDIT_DURABILITY",
	"LOGGING_AUDIT_FILE_MODE",
	"LOGGING_AUDIT_FOLDER_MODE",
}

// value is a setting's value from either a YAML node or a JSON-decoded
// environment variable.
type value interface {
	isNull() bool
	boolean() (bool, error)
	str() (string, error)
	integer() (int, error)
	strings() ([]string, error)
	scalar() (string, bool)
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

var setters = map[string]func(*Settings, value) error{
	"LOGGING_AUDIT": func(s *Settings, v value) (err error) {
		if v.isNull() {
			s.Enabled = false
			return nil
		}
		s.Enabled, err = v.boolean()
		return err
	},
	"LOGGING_AUDIT_FOLDER": func(s *Settings, v value) error {
		if v.isNull() {
			s.Folder = DefaultFolder
			return nil
		}
		f, err := v.str()
		if err != nil {
			return err
		}
		if f == "" {
			return errors.New("must name a folder, not be empty")
		}
		s.Folder = f
		return nil
	},
	"LOGGING_AUDIT_TIME": func(s *Settings, v value) error {
		if v.isNull() {
			s.Time = TimeUTC
			return nil
		}
		t, err := v.str()
		if err != nil {
			return err
		}
		if t != TimeUTC && t != TimeServer {
			return fmt.Errorf("unknown value %q; want %s or %s", t, TimeUTC, TimeServer)
		}
		s.Time = t
		return nil
	},
	"LOGGING_AUDIT_WHITELIST": func(s *Settings, v value) (err error) {
		if v.isNull() {
			s.Whitelist = nil
			return nil
		}
		if s.Whitelist, err = v.strings(); err != nil {
			return err
		}
		return validatePatterns(s.Whitelist)
	},
	"LOGGING_AUDIT_BLACKLIST": func(s *Settings, v value) (err error) {
		if v.isNull() {
			s.Blacklist = nil
			return nil
		}
		if s.Blacklist, err = v.strings(); err != nil {
			return err
		}
		return validatePatterns(s.Blacklist)
	},
	"NUM_PROXIES": func(s *Settings, v value) error {
		if v.isNull() {
			s.NumProxies, s.NumProxiesSet = 0, false
			return nil
		}
		n, err := v.integer()
		if err != nil {
			return err
		}
		if n < 0 {
			return fmt.Errorf("must not be negative, got %d", n)
		}
		s.NumProxies, s.NumProxiesSet = n, true
		return nil
	},
	"LOGGING_AUDIT_STRICT": func(s *Settings, v value) (err error) {
		if v.isNull() {
			s.Strict = false
			return nil
		}
		s.Strict, err = v.boolean()
		return err
	},
	"LOGGING_AUDIT_DURABILITY": func(s *Settings, v value) error {
		if v.isNull() {
			s.Durability = exporter.Write
			return nil
		}
		d, err := v.str()
		if err != nil {
			return err
		}
		s.Durability, err = exporter.ParseDurability(d)
		return err
	},
	"LOGGING_AUDIT_FILE_MODE": func(s *Settings, v value) (err error) {
		if v.isNull() {
			s.FileMode = DefaultFileMode
			return nil
		}
		s.FileMode, err = parseMode(v)
		return err
	},
	"LOGGING_AUDIT_FOLDER_MODE": func(s *Settings, v value) (err error) {
		if v.isNull() {
			s.FolderMode = DefaultFolderMode
			return nil
		}
		s.FolderMode, err = parseMode(v)
		return err
	},
	"TRUSTED_IP_HEADER": func(s *Settings, v value) error {
		if v.isNull() {
			s.TrustedIPHeader = ""
			return nil
		}
		h, err := v.str()
		if err != nil {
			return err
		}
		if h == "" {
			s.TrustedIPHeader = ""
			return nil
		}
		name, ok := strings.CutPrefix(h, "HTTP_")
		if !ok || name == "" || strings.Trim(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != "" {
			return fmt.Errorf("%q is not a request header in Django's form; write it like HTTP_X_REAL_IP for the X-Real-IP header", h)
		}
		s.TrustedIPHeader = h
		return nil
	},
}

// yaml11Bool holds the boolean spellings of YAML 1.1, which Psono's PyYAML
// reads: settings files say True and False, and may say yes, no, on or off.
var yaml11Bool = map[string]bool{
	"true": true, "True": true, "TRUE": true, "false": false, "False": false, "FALSE": false,
	"yes": true, "Yes": true, "YES": true, "no": false, "No": false, "NO": false,
	"on": true, "On": true, "ON": true, "off": false, "Off": false, "OFF": false,
}

type yamlValue struct{ n *yaml.Node }

func (v yamlValue) kind() string {
	switch v.n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		return "an alias"
	}
	switch v.n.Tag {
	case "!!bool":
		return "a boolean"
	case "!!int", "!!float":
		return "a number"
	}
	return fmt.Sprintf("the string %q", v.n.Value)
}

func (v yamlValue) scalar() (string, bool) {
	if v.n.Kind == yaml.ScalarNode && (v.n.Tag == "!!int" || v.n.Tag == "!!str") {
		return v.n.Value, true
	}
	return v.kind(), false
}

func (v yamlValue) isNull() bool { return v.n.Kind == yaml.ScalarNode && v.n.Tag == "!!null" }

func (v yamlValue) boolean() (bool, error) {
	if v.n.Kind == yaml.ScalarNode && (v.n.Tag == "!!bool" || v.n.Style == 0) {
		if b, ok := yaml11Bool[v.n.Value]; ok {
			return b, nil
		}
	}
	return false, fmt.Errorf("must be True or False, got %s", v.kind())
}

func (v yamlValue) str() (string, error) {
	if v.n.Kind == yaml.ScalarNode && v.n.Tag == "!!str" {
		return v.n.Value, nil
	}
	return "", fmt.Errorf("must be a string, got %s", v.kind())
}

func (v yamlValue) integer() (int, error) {
	if v.n.Kind == yaml.ScalarNode && v.n.Tag == "!!int" {
		var n int
		if err := v.n.Decode(&n); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("must be a whole number, got %s", v.kind())
}

func (v yamlValue) strings() ([]string, error) {
	if v.n.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("must be a list of event codes like ['FIRST_EVENT_CODE', 'SECOND_EVENT_CODE'], got %s", v.kind())
	}
	out := make([]string, 0, len(v.n.Content))
	for i, item := range v.n.Content {
		if item.Kind != yaml.ScalarNode || item.Tag != "!!str" {
			return nil, fmt.Errorf("entry %d (line %d) must be a string, got %s", i+1, item.Line, yamlValue{item}.kind())
		}
		out = append(out, item.Value)
	}
	return out, nil
}

type jsonValue struct{ v any }

func (v jsonValue) kind() string {
	switch x := v.v.(type) {
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	case string:
		return strconv.Quote(x)
	}
	return "null"
}

func (v jsonValue) scalar() (string, bool) {
	switch x := v.v.(type) {
	case string:
		return x, true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	}
	return v.kind(), false
}

func (v jsonValue) isNull() bool { return v.v == nil }

func (v jsonValue) boolean() (bool, error) {
	switch x := v.v.(type) {
	case bool:
		return x, nil
	case string:
		if b, ok := yaml11Bool[x]; ok {
			return b, nil
		}
	}
	return false, fmt.Errorf("must be true or false, got %s", v.kind())
}

func (v jsonValue) str() (string, error) {
	if s, ok := v.v.(string); ok {
		return s, nil
	}
	return "", fmt.Errorf("must be a string, got %s", v.kind())
}

func (v jsonValue) integer() (int, error) {
	if f, ok := v.v.(float64); ok && f == math.Trunc(f) && math.Abs(f) < 1<<31 {
		return int(f), nil
	}
	return 0, fmt.Errorf("must be a whole number, got %s", v.kind())
}

func (v jsonValue) strings() ([]string, error) {
	list, ok := v.v.([]any)
	if !ok {
		return nil, fmt.Errorf(`must be a JSON list of event codes like '["FIRST_EVENT_CODE"]', got %s`, v.kind())
	}
	out := make([]string, 0, len(list))
	for i, item := range list {
		s, ok := item.(string)
		if !ok {
			return nil, fmt.Errorf("entry %d must be a string, got %s", i+1, jsonValue{item}.kind())
		}
		out = append(out, s)
	}
	return out, nil
}
