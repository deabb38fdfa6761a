package config

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/BurntSushi/toml"
)

// parseTOML reads a settings.toml, after checkTOMLDepth. Only top-level keys
// are settings, as in Psono; keys inside tables belong to other parts of the
// server.
func parseTOML(source string, data []byte) (Settings, locator, error) {
	if err := checkTOMLDepth(source, data); err != nil {
		return Settings{}, nil, err
	}
	s := Default()
	s.Source = source
	at := func(key string) (string, int) { return source, tomlLine(data, key) }
	var doc map[string]any
	md, err := toml.Decode(string(data), &doc)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return Settings{}, nil, fmt.Errorf("%s:%d: not valid TOML: %s", source, pe.Position.Line, pe.Message)
		}
		return Settings{}, nil, fmt.Errorf("%s: not valid TOML: %w", source, err)
	}
	for _, k := range md.Keys() { // in the order of the file
		if len(k) != 1 {
			continue
		}
		key, ok := keyIndex[k[0]]
		if !ok {
			if err := unknownKey(k[0]); err != nil {
				source, line := at(k[0])
				return Settings{}, nil, &Error{Source: source, Line: line, Key: k[0], Err: err}
			}
			continue
		}
		if err := key.apply(&s, tomlValue{doc[k[0]]}); err != nil {
			source, line := at(k[0])
			return Settings{}, nil, &Error{Source: source, Line: line, Key: k[0], Err: err}
		}
	}
	return s, at, nil
}

// tomlLine returns the line of the top-level key's value in data, or 0. The
// TOML module does not export the positions of keys, but it reports the
// position of the value whose decoding failed: so data is decoded once more
// into a struct with the key alone, whose decoder always fails. This runs
// only when an error is reported.
func tomlLine(data []byte, key string) int {
	t := reflect.StructOf([]reflect.StructField{{
		Name: "V",
		Type: reflect.TypeFor[lineProbe](),
		Tag:  reflect.StructTag(`toml:"` + key + `"`),
	}})
	_, err := toml.Decode(string(data), reflect.New(t).Interface())
	var pe toml.ParseError
	if errors.As(err, &pe) && pe.Message == errProbe.Error() {
		return pe.Position.Line
	}
	return 0
}

var errProbe = errors.New("position probe")

// lineProbe is a toml.Unmarshaler that always fails, so that the decoder
// reports where its value is.
type lineProbe struct{}

func (lineProbe) UnmarshalTOML(any) error { return errProbe }
