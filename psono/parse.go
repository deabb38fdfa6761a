package psono

import (
	"errors"
	"fmt"
	"strings"
)

// ErrSyntax is wrapped by every error Parse returns.
var ErrSyntax = errors.New("psono: not a valid audit line")

// Parse decodes one audit line (without its newline) into its time and its
// pairs. It accepts every line AppendTo and the file exporter write, and
// every line Psono writes whose values hold no raw control characters.
// Parse(l.String()) returns l for every Line l whose Time holds no space and
// whose keys hold no "=" outside quotes.
func Parse(line string) (Line, error) {
	sp := strings.IndexByte(line, ' ')
	if sp <= 0 {
		return Line{}, fmt.Errorf("%w: no space after the time in %.80q", ErrSyntax, line)
	}
	l := Line{Time: line[:sp]}
	rest := line[sp+1:]
	for {
		var p Pair
		var err error
		p.Key, rest, err = token(rest, true)
		if err != nil {
			return Line{}, fmt.Errorf("%w: pair %d key: %w", ErrSyntax, len(l.Pairs)+1, err)
		}
		if !strings.HasPrefix(rest, "=") {
			return Line{}, fmt.Errorf("%w: pair %d has no '=' after its key %q", ErrSyntax, len(l.Pairs)+1, p.Key)
		}
		p.Value, rest, err = token(rest[1:], false)
		if err != nil {
			return Line{}, fmt.Errorf("%w: pair %d (%s) value: %w", ErrSyntax, len(l.Pairs)+1, p.Key, err)
		}
		l.Pairs = append(l.Pairs, p)
		if rest == "" {
			return l, nil
		}
		if !strings.HasPrefix(rest, ", ") {
			return Line{}, fmt.Errorf("%w: pair %d (%s) is followed by %.20q, not \", \"", ErrSyntax, len(l.Pairs), p.Key, rest)
		}
		rest = rest[2:]
	}
}

// token decodes one key (stopping at '=') or one value (stopping at ", " or
// the end) from the start of s and returns it with the rest of s.
func token(s string, key bool) (tok, rest string, err error) {
	if strings.HasPrefix(s, `"`) {
		return quoted(s)
	}
	end := len(s)
	if key {
		end = strings.IndexByte(s, '=')
		if end < 0 {
			return "", "", errors.New("missing '='")
		}
	} else if i := strings.IndexByte(s, ' '); i >= 0 {
		// A bare value never holds a space, so the space is the one of the
		// ", " separator and the comma before it is not the value's.
		if i == 0 || s[i-1] != ',' {
			return "", "", fmt.Errorf("unquoted space in %.20q", s)
		}
		end = i - 1
	}
	raw := s[:end]
	if strings.IndexByte(raw, '"') >= 0 && !validBareQuotes(raw) {
		return "", "", fmt.Errorf("unescaped quote in %.20q", raw)
	}
	if strings.IndexByte(raw, '\\') < 0 {
		return raw, s[end:], nil
	}
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '\\' {
			if i+1 == len(raw) || (raw[i+1] != '\\' && raw[i+1] != '"') {
				return "", "", fmt.Errorf("bad escape in unquoted %.20q", raw)
			}
			i++
			c = raw[i]
		}
		b.WriteByte(c)
	}
	return b.String(), s[end:], nil
}

// validBareQuotes reports whether every double quote in an unquoted token is
// escaped.
func validBareQuotes(raw string) bool {
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '\\':
			i++
		case '"':
			return false
		}
	}
	return true
}

// quoted decodes a double-quoted token at the start of s.
func quoted(s string) (tok, rest string, err error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			return b.String(), s[i+1:], nil
		case '\\':
			if i+1 == len(s) {
				return "", "", errors.New("line ends inside an escape")
			}
			i++
			switch e := s[i]; e {
			case '\\', '"':
				b.WriteByte(e)
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'x':
				v, ok := unhex(s[i+1:], 2)
				if !ok {
					return "", "", errors.New(`bad \x escape`)
				}
				b.WriteByte(byte(v))
				i += 2
			case 'u':
				v, ok := unhex(s[i+1:], 4)
				if !ok {
					return "", "", errors.New(`bad \u escape`)
				}
				b.WriteRune(rune(v))
				i += 4
			default:
				return "", "", fmt.Errorf("unknown escape \\%c", e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", "", errors.New("unterminated quote")
}

// unhex decodes the first n hex digits of s.
func unhex(s string, n int) (int, bool) {
	if len(s) < n {
		return 0, false
	}
	v := 0
	for i := 0; i < n; i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			v = v<<4 | int(c-'0')
		case 'a' <= c && c <= 'f':
			v = v<<4 | int(c-'a'+10)
		case 'A' <= c && c <= 'F':
			v = v<<4 | int(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}
