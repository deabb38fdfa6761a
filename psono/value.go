package psono

import (
	"unicode"
	"unicode/utf8"
)

// AppendValue appends s encoded by Psono's rule: backslash becomes \\, a
// double quote becomes \", and the result is wrapped in double quotes when s
// holds whitespace (Python's Unicode-aware \s). For every value without
// control characters, line separators or invalid UTF-8 the output is byte for
// byte what Psono writes.
//
// Psono writes control characters raw, which lets a value end the line. Here
// a value holding CR, LF, any other C0 control, DEL, U+0085, U+2028, U+2029
// or a byte of invalid UTF-8 is quoted, and that character is written as an
// escape instead: \n, \r, \t, \u0085, \u2028, \u2029, or \xHH for the others
// (HH being the byte in hex). An encoded value therefore never holds a line
// break, never holds ", " outside quotes, and Parse gets s back exactly.
func AppendValue(dst []byte, s string) []byte {
	quote, plain := scan(s)
	if plain {
		return append(dst, s...)
	}
	if quote {
		dst = append(dst, '"')
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '\\' || c == '"':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20 || c == 0x7f:
				dst = append(dst, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
		case r == 0x85 || r == 0x2028 || r == 0x2029:
			dst = append(dst, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	if quote {
		dst = append(dst, '"')
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// Byte classes of scan's lookup table, for ASCII bytes.
const (
	clsEscape = 1 // '\\' or '"': escaped, but no reason to quote
	clsQuote  = 2 // space, C0 control or DEL: quoted
	clsHigh   = 3 // 0x80 and above: decoded as UTF-8
)

// byteClass classifies every byte value for scan; 0 means the byte is copied
// as it is.
var byteClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch {
		case c >= utf8.RuneSelf:
			t[c] = clsHigh
		case c <= ' ' || c == 0x7f:
			t[c] = clsQuote
		case c == '\\' || c == '"':
			t[c] = clsEscape
		}
	}
	return t
}()

// Word-at-a-time constants: lo has 1 in every byte, hi has the top bit of
// every byte.
const (
	lo = 0x0101010101010101
	hi = 0x8080808080808080
)

// special reports whether one of the 8 bytes of w is not copied as it is:
// 0x80 or above, below 0x23 (space, C0 controls and '"'), '\\' or DEL.
// Each term is exact for a word of ASCII bytes (a borrow or carry between
// bytes only starts at a byte that is special itself), and bytes with the
// top bit set are caught by w itself:
//
//	(w-lo*0x23)&^w  a byte below 0x23
//	w+lo            a byte 0x7f (DEL) turns into 0x80
//	(b-lo)&^b       a byte equal to '\\' (b is w with '\\' xored out)
func special(w uint64) bool {
	b := w ^ (lo * '\\')
	return (w|(w-lo*0x23)&^w|(w+lo)|(b-lo)&^b)&hi != 0
}

// scan reports whether s must be quoted, and whether it can be copied as it
// is (no quoting, nothing to escape). It reads eight bytes at a time, the
// last word overlapping the one before when the length is not a multiple of
// eight, and returns at once when they are all plain ASCII, the common case.
// Otherwise, and for strings shorter than eight bytes, it looks each byte up
// in byteClass.
func scan(s string) (quote, plain bool) {
	i := 0
	if len(s) >= 8 {
		for ; i+8 <= len(s); i += 8 {
			if special(load64(s[i:])) {
				break
			}
		}
		if i+8 > len(s) && (i == len(s) || !special(load64(s[len(s)-8:]))) {
			return false, true
		}
	}
	plain = true
	for i < len(s) {
		switch byteClass[s[i]] {
		case 0:
			i++
		case clsEscape:
			plain = false
			i++
		case clsQuote:
			return true, false
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 || unicode.IsSpace(r) {
				return true, false
			}
			i += size
		}
	}
	return false, plain
}

// load64 returns the first eight bytes of s, little-endian; the compiler
// makes it one load.
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}
