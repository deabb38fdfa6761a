package main

import (
	"unicode/utf8"
)

// Text read from audit files (and the names of the files) goes to a terminal:
// a raw escape sequence in a request path could clear the screen, rewrite
// what was printed before it, set the window title or, on some terminals,
// answer back into the shell. appendEscaped is the one function that makes
// such text safe; search, tail and their messages all print through it.

const hexDigits = "0123456789abcdef"

// appendEscaped appends s to dst with every byte that could control a
// terminal written as an escape instead: each C0 control byte (0x00 to 0x1f,
// tab and carriage return included) and DEL as \xHH, each C1 control (U+0080
// to U+009F) as \u00HH, and each byte that is not part of valid UTF-8 as
// \xHH. Everything else, backslashes included, is copied as it is, so a
// line without such bytes is printed unchanged. In a quoted value of a
// Psono line these escapes read back as the original bytes (psono.Parse).
func appendEscaped(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			// The common case: runs of printable ASCII.
			j := i + 1
			for j < len(s) && s[j] >= 0x20 && s[j] < 0x7f {
				j++
			}
			dst = append(dst, s[i:j]...)
			i = j
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, '\\', 'x', hexDigits[c>>4], hexDigits[c&15])
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, '\\', 'x', hexDigits[c>>4], hexDigits[c&15])
		case r <= 0x9f:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[r>>4], hexDigits[r&15])
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return dst
}

// plainText reports whether appendEscaped would copy s unchanged.
func plainText(s []byte) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			return false
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 || r <= 0x9f {
			return false
		}
		i += size
	}
	return true
}

// escaped returns s escaped by appendEscaped, for messages that hold file
// names or text from files.
func escaped(s string) string {
	if plainText([]byte(s)) {
		return s
	}
	return string(appendEscaped(nil, []byte(s)))
}

// appendJSONString appends s as a JSON string: what encoding/json writes
// for it (invalid UTF-8 as U+FFFD; <, > and & escaped; U+2028 and U+2029
// escaped), and also DEL and the C1 controls as \u escapes, which
// encoding/json leaves raw: the result holds no byte that controls a
// terminal and decodes to the same string.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' && c != 0x7f {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r <= 0x9f:
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[r>>4], hexDigits[r&15])
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&15])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
