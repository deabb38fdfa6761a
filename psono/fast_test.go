package psono_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/otelaudit/otelaudit/psono"
)

// referenceValue is AppendValue's rule written out rune by rune, with no
// fast path: the reference for the word-at-a-time scanner.
func referenceValue(s string) string {
	quote, escape := false, false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1, r < 0x20, r == 0x7f, r == ' ', r >= utf8.RuneSelf && unicode.IsSpace(r):
			quote = true
		case r == '\\' || r == '"':
			escape = true
		}
		i += size
	}
	if !quote && !escape {
		return s
	}
	var b strings.Builder
	if quote {
		b.WriteByte('"')
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\' || r == '"':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r == 0x85 || r == 0x2028 || r == 0x2029:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	if quote {
		b.WriteByte('"')
	}
	return b.String()
}

// TestAppendValueEveryByteEveryPosition puts each byte value, and a few
// multi-byte runes, at every position of strings up to 20 bytes long around
// plain text, so that every lane of the 8-byte scanner and its byte-by-byte
// tail sees every class of byte.
func TestAppendValueEveryByteEveryPosition(t *testing.T) {
	const filler = "abcdefghijklmnopqrst"
	inserts := []string{"\u00a0", "\u0085", "\u2028", "\u3000", "é", "\xc3", "\xe2\x80", "\U0001F600"}
	for c := 0; c < 256; c++ {
		inserts = append(inserts, string([]byte{byte(c)}))
	}
	for n := 0; n <= len(filler); n++ {
		for pos := 0; pos <= n; pos++ {
			for _, ins := range inserts {
				s := filler[:pos] + ins + filler[pos:n]
				if got, want := string(psono.AppendValue(nil, s)), referenceValue(s); got != want {
					t.Fatalf("AppendValue(%q) = %q, want %q", s, got, want)
				}
			}
		}
	}
}

// TestAppendValueRandom compares AppendValue with the reference on random
// strings mixing plain ASCII, specials and UTF-8.
func TestAppendValueRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"a", "Z", "0", "/", "-", ".", "@", " ", "\\", `"`, "\n", "\t", "\x00", "\x7f", "\x80", "\xff",
		"é", "\u00a0", "\u0085", "\u2028", "\u2029", "\u3000", "日本", "\U0001F600", "abcdefgh", "/datastore/"}
	for i := 0; i < 20000; i++ {
		var b strings.Builder
		for n := rng.IntN(40); n > 0; n-- {
			if rng.IntN(4) == 0 {
				b.WriteString(pieces[rng.IntN(len(pieces))])
			} else {
				b.WriteByte(byte('a' + rng.IntN(26)))
			}
		}
		s := b.String()
		if got, want := string(psono.AppendValue(nil, s)), referenceValue(s); got != want {
			t.Fatalf("AppendValue(%q) = %q, want %q", s, got, want)
		}
	}
}

// TestAppendTimeMatchesTimePackage compares AppendTime with the time
// package's own formatting over random instants from year 0 to 9999 in
// several zones, including ones with daylight saving time and negative
// offsets, and across the edges of days, months, leap years and eras.
func TestAppendTimeMatchesTimePackage(t *testing.T) {
	zones := []*time.Location{time.UTC, time.FixedZone("W", -9*3600-30*60), time.FixedZone("E", 14*3600)}
	for _, name := range []string{"America/New_York", "Europe/Berlin", "Australia/Lord_Howe"} {
		if loc, err := time.LoadLocation(name); err == nil {
			zones = append(zones, loc)
		}
	}
	reference := func(t time.Time) string {
		s := t.Format("2006-01-02T15:04:05.000000")
		return strings.TrimSuffix(s, ".000000")
	}
	check := func(tm time.Time) {
		t.Helper()
		if got, want := string(psono.AppendTime(nil, tm)), reference(tm); got != want {
			t.Fatalf("AppendTime(%v) = %s, want %s", tm, got, want)
		}
	}
	for _, loc := range zones {
		for _, edge := range []time.Time{
			time.Date(0, 1, 1, 0, 0, 0, 0, loc), time.Date(9999, 12, 31, 23, 59, 59, 999999999, loc),
			time.Date(1969, 12, 31, 23, 59, 59, 999999000, loc), time.Date(1970, 1, 1, 0, 0, 0, 0, loc),
			time.Date(2000, 2, 29, 12, 0, 0, 1000, loc), time.Date(1900, 2, 28, 23, 59, 59, 0, loc),
			time.Date(1600, 3, 1, 0, 0, 0, 0, loc), time.Date(2024, 12, 31, 23, 59, 59, 999000, loc),
			time.Date(2026, 3, 29, 2, 30, 0, 0, loc), time.Date(2026, 11, 1, 1, 30, 0, 0, loc),
		} {
			check(edge)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	lo := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).Unix() + 86400
	hi := time.Date(9999, 12, 30, 0, 0, 0, 0, time.UTC).Unix()
	for i := 0; i < 100000; i++ {
		tm := time.Unix(lo+rng.Int64N(hi-lo), rng.Int64N(1e9)).In(zones[i%len(zones)])
		if i%3 == 0 {
			tm = tm.Truncate(time.Second)
		}
		check(tm)
	}
}

// TestAppendTimeOutOfRange checks years the fast path does not handle.
func TestAppendTimeOutOfRange(t *testing.T) {
	for _, tt := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), "10000-01-01T00:00:00"},
		{time.Date(-1, 12, 31, 23, 59, 59, 5000, time.UTC), "-0001-12-31T23:59:59.000005"},
	} {
		if got := string(psono.AppendTime(nil, tt.t)); got != tt.want {
			t.Errorf("AppendTime(%v) = %s, want %s", tt.t, got, tt.want)
		}
	}
}
