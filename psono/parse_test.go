package psono_test

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/otelaudit/otelaudit/internal/seed"
	"github.com/otelaudit/otelaudit/psono"
)

// TestSeedLinesRoundTrip parses each of Psono's documented lines and writes
// it again: the result must be the same bytes.
func TestSeedLinesRoundTrip(t *testing.T) {
	for _, line := range seed.Lines {
		l, err := psono.Parse(line)
		if err != nil {
			t.Fatalf("Parse(%s): %v", line, err)
		}
		if l.Pairs[0].Key != "logger" {
			t.Errorf("first key = %s, want logger", l.Pairs[0].Key)
		}
		for i, f := range psono.Fields[:8] {
			if l.Pairs[i].Key != f.Name {
				t.Errorf("pair %d = %s, want %s", i, l.Pairs[i].Key, f.Name)
			}
		}
		if got := l.String(); got != line {
			t.Errorf("round trip:\n got %s\nwant %s", got, line)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, bad := range []string{
		"",
		"2020-05-24T07:55:37",
		"2020-05-24T07:55:37 logger",
		`2020-05-24T07:55:37 logger="unterminated`,
		`2020-05-24T07:55:37 logger=a b`,
		`2020-05-24T07:55:37 logger=a"b`,
		`2020-05-24T07:55:37 logger="a\qb"`,
		`2020-05-24T07:55:37 logger="a\x4"`,
		`2020-05-24T07:55:37 logger="a"b`,
		`2020-05-24T07:55:37 logger=a\`,
	} {
		if l, err := psono.Parse(bad); !errors.Is(err, psono.ErrSyntax) {
			t.Errorf("Parse(%q) = %v, %v; want ErrSyntax", bad, l, err)
		}
	}
}

// FuzzRoundTrip proves Parse(format(x)) == x for arbitrary values and that an
// encoded line is always exactly one line with exactly the pairs it was
// given.
func FuzzRoundTrip(f *testing.F) {
	f.Add("user", "demo2@example.com", "/datastore/x/")
	f.Add("kwarg_x", "a, b=c", "\"\\\n\r\u2028")
	f.Add("user_ip", "\xff\xfe", "tab\there")
	f.Fuzz(func(t *testing.T, key, v1, v2 string) {
		if !psono.ValidKwargName(key) {
			key = "kwarg_k"
		}
		in := psono.Line{Time: "2020-05-24T07:55:37.720973", Pairs: []psono.Pair{
			{"logger", v1}, {key, v2}, {"req_url", v1 + v2},
		}}
		enc := in.AppendTo(nil)
		if bytes.ContainsAny(enc, "\n\r\x85") || bytes.Contains(enc, []byte("\u2028")) || bytes.Contains(enc, []byte("\u2029")) {
			t.Fatalf("encoded line holds a line break: %q", enc)
		}
		if !utf8.Valid(enc) {
			t.Fatalf("encoded line is not valid UTF-8: %q", enc)
		}
		out, err := psono.Parse(string(enc))
		if err != nil {
			t.Fatalf("Parse(%q): %v", enc, err)
		}
		if !reflect.DeepEqual(in, out) {
			t.Fatalf("round trip of %q:\n got %#v\nwant %#v", enc, out, in)
		}
	})
}
