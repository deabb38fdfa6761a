package psono

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// FormatValue writes v as Python's str() writes the value it stands for,
// as Psono's audit lines hold kwargs and users:
//
//	nil (and a nil pointer)            None
//	bool                               True, False
//	int, int8..int64, uint..uint64     decimal: 42, -7
//	float64                            Python's repr: 1.0, 0.1, 1e+16, 1e-05, inf, -inf, nan
//	float32                            the same, from its shortest float32 digits: 0.1
//	string, []byte (as text)           the text itself
//	error, fmt.Stringer                Error(), String()
//	a slice or array of these          Python's list repr: ['a', 'b'], [1, 2.5, True, None]
//	a pointer to one of these          what it points to
//	anything else                      fmt.Sprint(v)
//
// Inside a list, strings are written as Python's repr writes them: in
// single quotes (double quotes when the text holds a ' and no "), with \\,
// the quote, \n, \r, \t and other non-printable characters escaped.
func FormatValue(v any) string {
	return string(appendPy(nil, v, false))
}

func appendPy(dst []byte, v any, inList bool) []byte {
	switch x := v.(type) {
	case nil:
		return append(dst, "None"...)
	case string:
		if inList {
			return appendPyRepr(dst, x)
		}
		return append(dst, x...)
	case []byte:
		if inList {
			return appendPyRepr(dst, string(x))
		}
		return append(dst, x...)
	case bool:
		if x {
			return append(dst, "True"...)
		}
		return append(dst, "False"...)
	case int:
		return strconv.AppendInt(dst, int64(x), 10)
	case int8:
		return strconv.AppendInt(dst, int64(x), 10)
	case int16:
		return strconv.AppendInt(dst, int64(x), 10)
	case int32:
		return strconv.AppendInt(dst, int64(x), 10)
	case int64:
		return strconv.AppendInt(dst, x, 10)
	case uint:
		return strconv.AppendUint(dst, uint64(x), 10)
	case uint8:
		return strconv.AppendUint(dst, uint64(x), 10)
	case uint16:
		return strconv.AppendUint(dst, uint64(x), 10)
	case uint32:
		return strconv.AppendUint(dst, uint64(x), 10)
	case uint64:
		return strconv.AppendUint(dst, x, 10)
	case uintptr:
		return strconv.AppendUint(dst, uint64(x), 10)
	case float64:
		return appendPyFloat(dst, x, 64)
	case float32:
		return appendPyFloat(dst, float64(x), 32)
	case error:
		return appendPy(dst, x.Error(), inList)
	case fmt.Stringer:
		return appendPy(dst, x.String(), inList)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return append(dst, "None"...)
		}
		return appendPy(dst, rv.Elem().Interface(), inList)
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return append(dst, "[]"...)
		}
		dst = append(dst, '[')
		for i := range rv.Len() {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = appendPy(dst, rv.Index(i).Interface(), true)
		}
		return append(dst, ']')
	case reflect.Bool:
		return appendPy(dst, rv.Bool(), inList)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(dst, rv.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.AppendUint(dst, rv.Uint(), 10)
	case reflect.Float32:
		return appendPyFloat(dst, rv.Float(), 32)
	case reflect.Float64:
		return appendPyFloat(dst, rv.Float(), 64)
	case reflect.String:
		return appendPy(dst, rv.String(), inList)
	}
	return appendPy(dst, fmt.Sprint(v), inList)
}

// appendPyFloat appends f as Python's repr(float) writes it: the shortest
// digits that read back as f, positional when the decimal exponent is from
// -4 to 15 (with ".0" when there is no fraction), scientific otherwise.
func appendPyFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "nan"...)
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	}
	e := strconv.FormatFloat(f, 'e', -1, bits) // d[.ddd]e±XX
	mant, exps, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(exps)
	if exp < -4 || exp >= 16 {
		return append(dst, e...) // Go and Python both write at least two exponent digits
	}
	digits := strings.Replace(strings.TrimPrefix(mant, "-"), ".", "", 1)
	if f < 0 || f == 0 && math.Signbit(f) {
		dst = append(dst, '-')
	}
	switch {
	case exp < 0:
		dst = append(dst, "0."...)
		dst = append(dst, strings.Repeat("0", -exp-1)...)
		return append(dst, digits...)
	case exp+1 >= len(digits):
		dst = append(dst, digits...)
		dst = append(dst, strings.Repeat("0", exp+1-len(digits))...)
		return append(dst, ".0"...)
	default:
		dst = append(dst, digits[:exp+1]...)
		dst = append(dst, '.')
		return append(dst, digits[exp+1:]...)
	}
}

// appendPyRepr appends s as Python's repr(str) writes it.
func appendPyRepr(dst []byte, s string) []byte {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	dst = append(dst, q)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			// Python strings hold no invalid UTF-8; write the byte as
			// Python writes a surrogate-escaped one.
			dst = append(dst, fmt.Sprintf(`\udc%02x`, s[i])...)
		case r == '\\' || r == rune(q):
			dst = append(dst, '\\', byte(r))
		case r == '\n':
			dst = append(dst, `\n`...)
		case r == '\r':
			dst = append(dst, `\r`...)
		case r == '\t':
			dst = append(dst, `\t`...)
		case r < 0x80 && (r < 0x20 || r == 0x7f):
			dst = append(dst, fmt.Sprintf(`\x%02x`, r)...)
		case r >= 0x80 && !pyPrintable(r):
			switch {
			case r <= 0xff:
				dst = append(dst, fmt.Sprintf(`\x%02x`, r)...)
			case r <= 0xffff:
				dst = append(dst, fmt.Sprintf(`\u%04x`, r)...)
			default:
				dst = append(dst, fmt.Sprintf(`\U%08x`, r)...)
			}
		default:
			dst = append(dst, s[i:i+n]...)
		}
		i += n
	}
	return append(dst, q)
}

// pyPrintable approximates Python's str.isprintable for non-ASCII runes:
// letters, marks, numbers, punctuation and symbols, and no separator but the
// space.
func pyPrintable(r rune) bool {
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S)
}
