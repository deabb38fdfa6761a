package siem

import (
	"unicode/utf8"

	"github.com/otelaudit/otelaudit/psono"
)

// AppendLineJSON appends the line of r as one JSON object, without a
// newline: "time" (as the line writes it), then every pair of the line in
// line order, each value a string as the line holds it ("None" included),
// for example {"time":"2020-05-24T07:55:37.720973","logger":"restapi.views.info",...}.
// Invalid UTF-8 in a value becomes U+FFFD.
func AppendLineJSON(dst []byte, l psono.Line) []byte {
	dst = append(dst, `{"time":`...)
	dst = appendJSONString(dst, l.Time)
	for _, p := range l.Pairs {
		dst = append(dst, ',')
		dst = appendJSONString(dst, p.Key)
		dst = append(dst, ':')
		dst = appendJSONString(dst, p.Value)
	}
	return append(dst, '}')
}

const hex = "0123456789abcdef"

// appendJSONString appends s as a JSON string.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20 || c == 0x7f:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, `\ufffd`...)
		case r == 0x2028 || r == 0x2029:
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}
