package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

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
	if v.n.Kind == yaml.ScalarNode {
		switch v.n.Tag {
		case "!!int":
			var n int
			if err := v.n.Decode(&n); err == nil {
				return n, nil
			}
		case "!!float":
			var f float64
			if err := v.n.Decode(&f); err == nil {
				if n, ok := wholeNumber(f); ok {
					return n, nil
				}
			}
		case "!!str":
			if n, ok := pythonInt(v.n.Value); ok {
				return n, nil
			}
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
	switch x := v.v.(type) {
	case float64:
		if n, ok := wholeNumber(x); ok {
			return n, nil
		}
	case string:
		if n, ok := pythonInt(x); ok {
			return n, nil
		}
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

// wholeNumber returns f as an int when it has no fraction and fits.
func wholeNumber(f float64) (int, bool) {
	if f == math.Trunc(f) && math.Abs(f) < 1<<31 {
		return int(f), true
	}
	return 0, false
}

// pythonInt reads a whole number written as a string the way Python's int()
// reads it, as Psono converts NUM_PROXIES: surrounding whitespace is ignored,
// a sign and leading zeros are allowed, and an underscore may separate two
// digits ("1_000"). "2.0", "" and "two" are not numbers. Only ASCII digits
// are accepted (Python also takes other Unicode decimal digits).
func pythonInt(s string) (int, bool) {
	s = strings.TrimSpace(s)
	digits := strings.TrimLeft(s, "+-")
	if len(s)-len(digits) > 1 || digits == "" || digits[0] == '_' || digits[len(digits)-1] == '_' || strings.Contains(digits, "__") {
		return 0, false
	}
	n, err := strconv.ParseInt(s[:len(s)-len(digits)]+strings.ReplaceAll(digits, "_", ""), 10, 32)
	if err != nil {
		return 0, false
	}
	return int(n), true
}

// tomlValue is a value decoded from TOML: string, int64, float64, bool,
// []any, map[string]any or one of the date and time types. TOML has no null.
type tomlValue struct{ v any }

func (v tomlValue) kind() string {
	switch x := v.v.(type) {
	case bool:
		return "a boolean"
	case int64, float64:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "a table"
	case string:
		return strconv.Quote(x)
	case time.Time:
		return "a date"
	}
	return fmt.Sprintf("a %T", v.v)
}

// scalar returns a string as it is and an integer in octal, so that a file
// mode written 0o640 in TOML (which has no leading-zero octal) reads as 0640.
func (v tomlValue) scalar() (string, bool) {
	switch x := v.v.(type) {
	case string:
		return x, true
	case int64:
		return "0" + strconv.FormatInt(x, 8), true
	}
	return v.kind(), false
}

func (v tomlValue) isNull() bool { return false }

func (v tomlValue) boolean() (bool, error) {
	if b, ok := v.v.(bool); ok {
		return b, nil
	}
	return false, fmt.Errorf("must be true or false, got %s", v.kind())
}

func (v tomlValue) str() (string, error) {
	if s, ok := v.v.(string); ok {
		return s, nil
	}
	return "", fmt.Errorf("must be a string, got %s", v.kind())
}

func (v tomlValue) integer() (int, error) {
	switch x := v.v.(type) {
	case int64:
		if x >= math.MinInt32 && x <= math.MaxInt32 {
			return int(x), nil
		}
	case float64:
		if n, ok := wholeNumber(x); ok {
			return n, nil
		}
	case string:
		if n, ok := pythonInt(x); ok {
			return n, nil
		}
	}
	return 0, fmt.Errorf("must be a whole number, got %s", v.kind())
}

func (v tomlValue) strings() ([]string, error) {
	list, ok := v.v.([]any)
	if !ok {
		return nil, fmt.Errorf("must be a list of event codes like ['FIRST_EVENT_CODE', 'SECOND_EVENT_CODE'], got %s", v.kind())
	}
	out := make([]string, 0, len(list))
	for i, item := range list {
		s, ok := item.(string)
		if !ok {
			return nil, fmt.Errorf("entry %d must be a string, got %s", i+1, tomlValue{item}.kind())
		}
		out = append(out, s)
	}
	return out, nil
}
