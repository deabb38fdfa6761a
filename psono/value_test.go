package psono_test

import (
	"regexp"
	"strings"
	"testing"

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
