package psono

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// A Pair is one key=value of a line, in decoded form.
type Pair struct {
	Key, Value string
}

// A Line is a decoded audit line: its time, exactly as written, and its pairs
// in line order, starting with logger.
type Line struct {
	Time  string
	Pairs []Pair
}

// Get returns the value of the first pair with the given key and whether there
// is one.
func (l Line) Get(key string) (string, bool) {
	for _, p := range l.Pairs {
		if p.Key == key {
			return p.Value, true
		}
	}
	return "", false
}

// AppendTo appends the line's encoding, without a trailing newline, to dst.
func (l Line) AppendTo(dst []byte) []byte {
	dst = append(dst, l.Time...)
	for i, p := range l.Pairs {
		if i == 0 {
			dst = append(dst, ' ')
		} else {
			dst = append(dst, ", "...)
		}
		dst = AppendValue(dst, p.Key)
		dst = append(dst, '=')
		dst = AppendValue(dst, p.Value)
	}
	return dst
}

// String returns the line's encoding without a trailing newline.
func (l Line) String() string { return string(l.AppendTo(nil)) }

// AppendTime appends t the way Python's datetime.isoformat prints a naive
// datetime: 2006-01-02T15:04:05.000000, with microseconds, and with no
// fraction at all when the microseconds are zero. The caller chooses the zone
// (t.UTC() or t.Local()); the zone is not written. Nanoseconds below a
// microsecond are truncated.
func AppendTime(dst []byte, t time.Time) []byte {
	_, offset := t.Zone()
	secs := t.Unix() + int64(offset)
	days := secs / 86400
	rem := secs % 86400
	if rem < 0 {
		days--
		rem += 86400
	}
	year, month, day := civil(days)
	if year < 0 || year > 9999 {
		return appendTimeSlow(dst, t)
	}
	sod := int(rem)
	var b [26]byte
	put2(b[0:], year/100)
	put2(b[2:], year%100)
	b[4] = '-'
	put2(b[5:], month)
	b[7] = '-'
	put2(b[8:], day)
	b[10] = 'T'
	put2(b[11:], sod/3600)
	b[13] = ':'
	put2(b[14:], sod/60%60)
	b[16] = ':'
	put2(b[17:], sod%60)
	us := t.Nanosecond() / 1000
	if us == 0 {
		return append(dst, b[:19]...)
	}
	b[19] = '.'
	put2(b[20:], us/10000)
	put2(b[22:], us/100%100)
	put2(b[24:], us%100)
	return append(dst, b[:]...)
}

// civil returns the proleptic Gregorian date of the day that is days after
// 1970-01-01 (Howard Hinnant's days-to-civil algorithm).
func civil(days int64) (year, month, day int) {
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097                                  // [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // [0, 365]
	mp := (5*doy + 2) / 153                                // [0, 11], from March
	d := doy - (153*mp+2)/5 + 1                            // [1, 31]
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	y := yoe + era*400
	if m <= 2 {
		y++
	}
	return int(y), int(m), int(d)
}

const digitPairs = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

// put2 writes v (0 to 99) as two digits.
func put2(b []byte, v int) {
	_ = b[1]
	b[0], b[1] = digitPairs[2*v], digitPairs[2*v+1]
}

// appendTimeSlow is AppendTime for years outside 0 to 9999, through the time
// package.
func appendTimeSlow(dst []byte, t time.Time) []byte {
	year, month, day := t.Date()
	hour, min, sec := t.Clock()
	dst = appendInt(dst, year, 4)
	dst = append(dst, '-')
	dst = appendInt(dst, int(month), 2)
	dst = append(dst, '-')
	dst = appendInt(dst, day, 2)
	dst = append(dst, 'T')
	dst = appendInt(dst, hour, 2)
	dst = append(dst, ':')
	dst = appendInt(dst, min, 2)
	dst = append(dst, ':')
	dst = appendInt(dst, sec, 2)
	if us := t.Nanosecond() / 1000; us != 0 {
		dst = append(dst, '.')
		dst = appendInt(dst, us, 6)
	}
	return dst
}

// appendInt appends v, zero-padded to width digits. A negative v is written
// with a leading '-'.
func appendInt(dst []byte, v, width int) []byte {
	if v < 0 {
		dst = append(dst, '-')
		v = -v
	}
	var b [20]byte
	i := len(b)
	for v >= 10 || width > 1 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		width--
	}
	i--
	b[i] = byte('0' + v)
	return append(dst, b[i:]...)
}

// ParseTime parses a time written by AppendTime, in the given location.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	layout := "2006-01-02T15:04:05"
	if strings.IndexByte(s, '.') >= 0 {
		layout = "2006-01-02T15:04:05.000000"
	}
	t, err := time.ParseInLocation(layout, s, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("psono: audit time %q: %w", s, err)
	}
	return t, nil
}

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
