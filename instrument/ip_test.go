package instrument

import (
	"net/http"
	"testing"
)

func TestClientIP(t *testing.T) {
	tests := []struct {
		name       string
		xff        []string
		trusted    map[string]string
		header     string
		numProxies int
		set        bool
		want       string
	}{
		{name: "no proxies, no header", want: "192.0.2.7"},
		{name: "spoofed XFF with no proxy configured", xff: []string{"10.10.10.145"}, want: "192.0.2.7"},
		{name: "NUM_PROXIES 0 ignores XFF", xff: []string{"10.10.10.145"}, set: true, want: "192.0.2.7"},
		{name: "one proxy", xff: []string{"10.10.10.145"}, numProxies: 1, set: true, want: "10.10.10.145"},
		{name: "one proxy, client-sent entries before", xff: []string{"6.6.6.6, 10.10.10.145"}, numProxies: 1, set: true, want: "10.10.10.145"},
		{name: "two proxies", xff: []string{"10.10.10.145, 172.16.0.2"}, numProxies: 2, set: true, want: "10.10.10.145"},
		{name: "more proxies than entries clamps", xff: []string{"10.10.10.145 , 172.16.0.2"}, numProxies: 5, set: true, want: "10.10.10.145"},
		{name: "several XFF headers", xff: []string{"6.6.6.6", "10.10.10.145,172.16.0.2"}, numProxies: 2, set: true, want: "10.10.10.145"},
		{name: "empty XFF falls back to peer", xff: []string{""}, numProxies: 1, set: true, want: "192.0.2.7"},
		{name: "blank XFF entries give an empty IP, as in Psono", xff: []string{" , "}, numProxies: 1, set: true, want: ""},
		{name: "no XFF with proxies", numProxies: 1, set: true, want: "192.0.2.7"},
		{name: "trusted header", header: "Cf-Connecting-Ip", trusted: map[string]string{"Cf-Connecting-Ip": " 203.0.113.9 "}, xff: []string{"1.1.1.1"}, numProxies: 1, set: true, want: "203.0.113.9"},
		{name: "trusted header absent", header: "Cf-Connecting-Ip", xff: []string{"1.1.1.1"}, numProxies: 1, set: true, want: "1.1.1.1"},
		{name: "header not configured is ignored", trusted: map[string]string{"X-Real-Ip": "203.0.113.9"}, want: "192.0.2.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &http.Request{RemoteAddr: "192.0.2.7:54321", Header: http.Header{}}
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			for k, v := range tt.trusted {
				r.Header.Set(k, v)
			}
			if got := clientIP(r, tt.header, tt.numProxies, tt.set); got != tt.want {
				t.Errorf("clientIP = %q, want %q", got, tt.want)
			}
		})
	}
	if got := peerIP("[2001:db8::1]:443"); got != "2001:db8::1" {
		t.Errorf("peerIP of IPv6 = %q", got)
	}
}

func TestParsePattern(t *testing.T) {
	tests := []struct {
		pattern, event string
		wildcards      []string
	}{
		{"GET /datastore/{datastore_id}/", "GET_DATASTORE_DATASTORE_ID", []string{"datastore_id"}},
		{"/info/", "INFO", nil},
		{"/", "ROOT", nil},
		{"GET /", "GET_ROOT", nil},
		{"POST example.com/authentication/activate-token/", "POST_AUTHENTICATION_ACTIVATE_TOKEN", nil},
		{"GET /files/{path...}", "GET_FILES_PATH", []string{"path"}},
		{"GET /a/{x}/b/{y}/{$}", "GET_A_X_B_Y", []string{"x", "y"}},
	}
	for _, tt := range tests {
		info := parsePattern(tt.pattern)
		if info.event != tt.event || len(info.wildcards) != len(tt.wildcards) {
			t.Errorf("parsePattern(%q) = %s %v, want %s %v", tt.pattern, info.event, info.wildcards, tt.event, tt.wildcards)
			continue
		}
		for i := range tt.wildcards {
			if info.wildcards[i] != tt.wildcards[i] {
				t.Errorf("parsePattern(%q) wildcards = %v, want %v", tt.pattern, info.wildcards, tt.wildcards)
			}
		}
	}
}

func TestClip(t *testing.T) {
	long := string(make([]byte, 100))
	if got := clip(long, 64); len(got) != 64 || got[64-len(TruncatedMark):] != TruncatedMark {
		t.Errorf("clip = %q (%d bytes)", got, len(got))
	}
	multi := "ééééééééééééééééééééééééééééééééééééééééééé" // 2 bytes each
	got := clip(multi, 64)
	if len(got) > 64 || got[len(got)-len(TruncatedMark):] != TruncatedMark {
		t.Fatalf("clip = %q", got)
	}
	for _, r := range got {
		if r == 0xFFFD {
			t.Fatalf("clip cut inside a rune: %q", got)
		}
	}
}
