package psono_test

import (
	"bytes"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/otelaudit/otelaudit/internal/seed"
	"github.com/otelaudit/otelaudit/psono"
)

// psonoRule is Psono's own escaping, written out the slow way as the
// reference for values without control characters.
func psonoRule(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, `"`, `\"`)
	if regexp.MustCompile(`\s`).MatchString(s) || strings.ContainsAny(s, "\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000") {
		s = `"` + s + `"`
	}
	return s
}

func TestAppendValue(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"a b", `"a b"`},
		{`say "hi"`, `"say \"hi\""`},
		{`a"b`, `a\"b`},
		{`back\slash`, `back\\slash`},
		{"a,b", "a,b"},
		{"a, b", `"a, b"`},
		{"k=v", "k=v"},
		{"nb\u00a0sp", "\"nb\u00a0sp\""},
		{"ideo\u3000space", "\"ideo\u3000space\""},
		{"é ü", `"é ü"`},
		{"line\nbreak", `"line\nbreak"`},
		{"cr\rlf\n", `"cr\rlf\n"`},
		{"tab\there", `"tab\there"`},
		{"nul\x00", `"nul\x00"`},
		{"del\x7f", `"del\x7f"`},
		{"esc\x1b[31m", `"esc\x1b[31m"`},
		{"nel\u0085", `"nel\u0085"`},
		{"ls\u2028ps\u2029", `"ls\u2028ps\u2029"`},
		{"bad\xffutf8", `"bad\xffutf8"`},
		{"\xc3", `"\xc3"`},
	}
	for _, tt := range tests {
		got := string(psono.AppendValue(nil, tt.in))
		if got != tt.want {
			t.Errorf("AppendValue(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// TestAppendValueMatchesPsono checks that values without control characters
// are encoded byte for byte as Psono encodes them.
func TestAppendValueMatchesPsono(t *testing.T) {
	for _, s := range []string{"", "x", "a b", `"`, `\`, `\"`, `" "`, "demo2@example.com", "/share/right/",
		"a,b c", "x=y", "ünïcode", "nb\u00a0sp", "em\u2003space", `C:\Program Files\x`, "trailing "} {
		if got, want := string(psono.AppendValue(nil, s)), psonoRule(s); got != want {
			t.Errorf("AppendValue(%q) = %s, Psono writes %s", s, got, want)
		}
	}
}

func TestAppendTime(t *testing.T) {
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Date(2020, 5, 24, 7, 55, 37, 720973000, time.UTC), "2020-05-24T07:55:37.720973"},
		{time.Date(2020, 5, 24, 7, 55, 37, 0, time.UTC), "2020-05-24T07:55:37"},
		{time.Date(2020, 5, 24, 7, 55, 37, 999, time.UTC), "2020-05-24T07:55:37"},
		{time.Date(2020, 5, 24, 7, 55, 37, 1000, time.UTC), "2020-05-24T07:55:37.000001"},
		{time.Date(2020, 5, 24, 7, 55, 37, 999999999, time.UTC), "2020-05-24T07:55:37.999999"},
		{time.Date(999, 1, 2, 3, 4, 5, 600000000, time.UTC), "0999-01-02T03:04:05.600000"},
		{time.Date(2020, 12, 31, 23, 59, 59, 0, time.FixedZone("X", 3600)), "2020-12-31T23:59:59"},
	}
	for _, tt := range tests {
		got := string(psono.AppendTime(nil, tt.t))
		if got != tt.want {
			t.Errorf("AppendTime(%v) = %s, want %s", tt.t, got, tt.want)
		}
		back, err := psono.ParseTime(got, tt.t.Location())
		if err != nil {
			t.Fatal(err)
		}
		if want := tt.t.Truncate(time.Microsecond); !back.Equal(want) {
			t.Errorf("ParseTime(%s) = %v, want %v", got, back, want)
		}
	}
}

func TestStatusName(t *testing.T) {
	tests := []struct {
		code int
		want string
	}{
		{200, "HTTP_200_OK"},
		{201, "HTTP_201_CREATED"},
		{403, "HTTP_403_FORBIDDEN"},
		{405, "HTTP_405_METHOD_NOT_ALLOWED"},
		{413, "HTTP_413_REQUEST_ENTITY_TOO_LARGE"},
		{414, "HTTP_414_REQUEST_URI_TOO_LONG"},
		{418, "HTTP_418_IM_A_TEAPOT"},
		{422, "HTTP_422_UNPROCESSABLE_ENTITY"},
		{500, "HTTP_500_INTERNAL_SERVER_ERROR"},
		{511, "HTTP_511_NETWORK_AUTHENTICATION_REQUIRED"},
		{299, "HTTP_299"},
		{599, "HTTP_599"},
		{999, "HTTP_999"},
	}
	for _, tt := range tests {
		if got := psono.StatusName(tt.code); got != tt.want {
			t.Errorf("StatusName(%d) = %s, want %s", tt.code, got, tt.want)
		}
		if got := string(psono.AppendStatusName(nil, tt.code)); got != tt.want {
			t.Errorf("AppendStatusName(%d) = %s, want %s", tt.code, got, tt.want)
		}
		if code, ok := psono.ParseStatusName(tt.want); !ok || code != tt.code {
			t.Errorf("ParseStatusName(%s) = %d, %v", tt.want, code, ok)
		}
	}
	for _, bad := range []string{"", "HTTP_", "HTTP_2", "HTTP_200_NOPE", "200", "HTTP_abc_OK"} {
		if code, ok := psono.ParseStatusName(bad); ok {
			t.Errorf("ParseStatusName(%q) = %d, true; want false", bad, code)
		}
	}
}

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
