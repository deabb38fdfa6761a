package config

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// MaxSettingsSize is the largest settings file, in bytes, that is read. A
// Psono settings file is a few KiB; a larger one is refused before it is
// parsed, so that a wrong or hostile file cannot make startup slow or run
// out of memory.
const MaxSettingsSize = 256 << 10

// MaxSettingsDepth is the deepest nesting a TOML settings file may have,
// counting each table header part, each dotted key part and each inline
// table or array a value opens inside another: [a.b] then c = {d = [1]}
// nests 5 deep (a, b, c, d and the array). The TOML decoder's time and
// memory grow with the nesting of every key, to gigabytes for a few KiB
// nested thousands deep; Psono's own settings nest 4 deep at most. A deeper
// file is refused before it is parsed. YAML files have no such limit: their
// decoder stops at its own depth limit, in time and memory that grow only
// with the file's size.
const MaxSettingsDepth = 16

// readSettings reads the settings file at path, at most MaxSettingsSize
// bytes of it. An error wraps os.ErrNotExist when there is no file.
func readSettings(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading settings: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSettingsSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading settings: %w", err)
	}
	return data, nil
}

// checkSize refuses a document larger than MaxSettingsSize.
func checkSize(source string, data []byte) error {
	if len(data) > MaxSettingsSize {
		return fmt.Errorf("%s: larger than %d KiB, the most a settings file may hold (config.MaxSettingsSize); a Psono settings file holds a few KiB: is it the right file?", source, MaxSettingsSize>>10)
	}
	return nil
}

// checkTOMLDepth refuses a TOML document nested deeper than
// MaxSettingsDepth, naming the line where it does.
func checkTOMLDepth(source string, data []byte) error {
	if off := tomlTooDeep(data, MaxSettingsDepth); off >= 0 {
		line := 1 + bytes.Count(data[:off], []byte("\n"))
		return fmt.Errorf("%s:%d: nested deeper than %d levels (table header parts, dotted key parts, inline tables and arrays inside each other), the most a settings file may nest (config.MaxSettingsDepth); Psono's settings nest a few levels: is it the right file?", source, line, MaxSettingsDepth)
	}
	return nil
}

// tomlTooDeep returns the offset in data where the TOML document first nests
// deeper than limit, or -1. It looks only at brackets, braces, dots, equal
// signs, commas and line ends outside strings and comments, in one pass and
// without allocating beyond limit, and it counts a dot of a float value too
// (x = 1.5 nests 2 deep): it bounds the nesting of a valid document and
// needs no valid document to do so.
func tomlTooDeep(data []byte, limit int) int {
	var (
		opened    []int // the levels each open [ or { of a value adds
		levels    int   // the sum of opened
		table     int   // the parts of the current [table] header
		dots      int   // dots since the last key or value began
		keyParts  int   // parts of the key whose value comes next
		header    bool  // inside a [table] header
		lineStart = true
	)
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch c {
		case '\n':
			if header { // a header the decoder refuses: as if it ended here
				header, table = false, table+dots+1
			}
			dots, keyParts, lineStart = 0, 0, true
			continue
		case ' ', '\t', '\r':
			continue
		case '#':
			if j := bytes.IndexByte(data[i:], '\n'); j >= 0 {
				i += j - 1 // the line end is seen next
			} else {
				i = len(data)
			}
			continue
		case '"', '\'':
			i = skipTOMLString(data, i)
			lineStart = false
			continue
		}
		atLineStart := lineStart
		lineStart = false
		if header {
			switch c {
			case '.':
				dots++
				if table+dots+1 > limit {
					return i
				}
			case ']':
				header = false
				table += dots + 1
				dots = 0
				if i+1 < len(data) && data[i+1] == ']' {
					i++
				}
			}
			continue
		}
		switch c {
		case '[':
			if atLineStart && len(opened) == 0 { // [table] or [[array of tables]]
				header, table, dots = true, 0, 0
				if i+1 < len(data) && data[i+1] == '[' {
					table = 1 // the array, then its element's parts
					i++
				}
				continue
			}
			fallthrough
		case '{':
			n := max(keyParts, 1)
			opened = append(opened, n)
			levels += n
			dots, keyParts = 0, 0
			if table+levels+1 > limit {
				return i
			}
		case ']', '}':
			if len(opened) > 0 {
				levels -= opened[len(opened)-1]
				opened = opened[:len(opened)-1]
			}
			dots, keyParts = 0, 0
		case '=':
			keyParts, dots = dots+1, 0
		case ',':
			dots, keyParts = 0, 0
		case '.':
			dots++
			if table+levels+dots+1 > limit {
				return i
			}
		}
	}
	return -1
}

// skipTOMLString returns the offset of the last byte of the string that
// starts at data[i] (a " or '): a basic string with backslash escapes, a
// literal string, or their multi-line forms in triple quotes, which may end
// in up to five quotes. A one-line string ends at the line's end at the
// latest, as the TOML decoder ends it with an error.
func skipTOMLString(data []byte, i int) int {
	q := data[i]
	escapes := q == '"'
	if bytes.HasPrefix(data[i:], []byte{q, q, q}) {
		for j := i + 3; j < len(data); j++ {
			switch {
			case escapes && data[j] == '\\':
				j++
			case data[j] == q && bytes.HasPrefix(data[j:], []byte{q, q, q}):
				end := j + 3
				for end < len(data) && end < j+5 && data[end] == q {
					end++
				}
				return end - 1
			}
		}
		return len(data) - 1
	}
	for j := i + 1; j < len(data); j++ {
		switch {
		case escapes && data[j] == '\\' && j+1 < len(data) && data[j+1] != '\n':
			j++
		case data[j] == q:
			return j
		case data[j] == '\n':
			return j - 1
		}
	}
	return len(data) - 1
}
