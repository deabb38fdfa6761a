package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestAppendEscaped(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain ASCII, with \\ and \"quotes\" ~", "plain ASCII, with \\ and \"quotes\" ~"},
		{"\x1b[2J\x1b]0;title\x07", `\x1b[2J\x1b]0;title\x07`},
		{"tab\tcr\rlf\nnul\x00", `tab\x09cr\x0dlf\x0anul\x00`},
		{"del\x7f", `del\x7f`},
		{"c1 \u0085 \u009b \u0080 \u009f", `c1 \u0085 \u009b \u0080 \u009f`},
		{"not c1: \u00a0 \u00ff é 日本 \U0001F600 \uFFFD", "not c1: \u00a0 \u00ff é 日本 \U0001F600 \uFFFD"},
		{"invalid \xff \xc2 \xe2\x80 \xed\xa0\x80", `invalid \xff \xc2 \xe2\x80 \xed\xa0\x80`},
		{"raw \x9b CSI byte", `raw \x9b CSI byte`},
	}
	for _, tt := range tests {
		got := string(appendEscaped([]byte("prefix:"), []byte(tt.in)))
		if got != "prefix:"+tt.want {
			t.Errorf("appendEscaped(%q) = %q, want %q", tt.in, got, "prefix:"+tt.want)
		}
		if plain := plainText([]byte(tt.in)); plain != (tt.in == tt.want) {
			t.Errorf("plainText(%q) = %v, want %v", tt.in, plain, tt.in == tt.want)
		}
		if c := rawControl(got); c != "" {
			t.Errorf("appendEscaped(%q) left a raw %s", tt.in, c)
		}
	}
	// Every byte, and every rune up to U+00FF, alone and in text.
	for b := 0; b < 256; b++ {
		for _, s := range []string{string([]byte{byte(b)}), string(rune(b)), "a" + string(rune(b)) + "b"} {
			if c := rawControl(escaped(s)); c != "" {
				t.Errorf("escaped(%q) left a raw %s", s, c)
			}
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	var all []string
	for b := 0; b < 256; b++ {
		all = append(all, string([]byte{byte(b)}), string(rune(b)))
	}
	all = append(all, "", "plain", `q"uote \ back`, "<a&b>", "\u2028\u2029", "日本\U0001F600", "\xe2\x80", "\xed\xa0\x80", "\x1b[2J\u009b\x7f")
	for _, s := range all {
		got := appendJSONString(nil, s)
		if !json.Valid(got) {
			t.Fatalf("appendJSONString(%q) = %s: not JSON", s, got)
		}
		if c := rawControl(string(got)); c != "" {
			t.Errorf("appendJSONString(%q) = %q holds a raw %s", s, got, c)
		}
		want, _ := json.Marshal(s)
		var a, b string
		json.Unmarshal(got, &a)
		json.Unmarshal(want, &b)
		if a != b {
			t.Errorf("appendJSONString(%q) decodes to %q, encoding/json's to %q", s, a, b)
		}
		if !strings.ContainsAny(s, "\x7f") && !hasC1(s) && string(got) != string(want) {
			t.Errorf("appendJSONString(%q) = %s, encoding/json writes %s", s, got, want)
		}
	}
}

func hasC1(s string) bool {
	for _, r := range s {
		if r >= 0x80 && r <= 0x9f {
			return true
		}
	}
	return false
}

func TestLastRecords(t *testing.T) {
	for _, tt := range []struct {
		n    int
		add  int
		want string
	}{
		{0, 5, ""},
		{1, 5, "4"},
		{3, 2, "0 1"},
		{3, 3, "0 1 2"},
		{3, 7, "4 5 6"},
	} {
		r := &lastRecords{n: tt.n}
		for i := range tt.add {
			r.add([]byte{byte('0' + i)})
		}
		var got []string
		for i := range r.ring {
			got = append(got, string(r.ring[(r.next+i)%len(r.ring)]))
		}
		if strings.Join(got, " ") != tt.want || len(r.ring) > tt.n {
			t.Errorf("last %d of %d: %q, want %q", tt.n, tt.add, got, tt.want)
		}
	}
}
