package instrument

import (
	"net/http"
	"testing"
)

func TestClientIP(t *testing.T) {
	tests := []struct {
		name       string
		peer       string // default 192.0.2.7:54321
		xff        []string
		trusted    map[string][]string
		overwrite  string
		header     string
		numProxies int
		want       string
	}{
		{name: "no proxies, no header", want: "192.0.2.7"},
		{name: "spoofed XFF with no proxy configured", xff: []string{"10.10.10.145"}, want: "192.0.2.7"},
		{name: "NUM_PROXIES 0 ignores XFF", xff: []string{"10.10.10.145"}, want: "192.0.2.7"},
		{name: "one proxy", xff: []string{"10.10.10.145"}, numProxies: 1, want: "10.10.10.145"},
		{name: "one proxy, client-sent entries before", xff: []string{"6.6.6.6, 10.10.10.145"}, numProxies: 1, want: "10.10.10.145"},
		{name: "two proxies", xff: []string{"10.10.10.145, 172.16.0.2"}, numProxies: 2, want: "10.10.10.145"},
		{name: "more proxies than entries clamps", xff: []string{"10.10.10.145 , 172.16.0.2"}, numProxies: 5, want: "10.10.10.145"},
		{name: "XFF clamping reaches a client-sent entry", xff: []string{"6.6.6.6, 10.10.10.145, 172.16.0.2"}, numProxies: 9, want: "6.6.6.6"},
		{name: "several XFF headers", xff: []string{"6.6.6.6", "10.10.10.145,172.16.0.2"}, numProxies: 2, want: "10.10.10.145"},
		{name: "empty XFF falls back to peer", xff: []string{""}, numProxies: 1, want: "192.0.2.7"},
		{name: "blank XFF entry is not an IP: peer", xff: []string{" , "}, numProxies: 1, want: "192.0.2.7"},
		{name: "XFF entry not an IP: peer", xff: []string{"10.10.10.145, user=admin"}, numProxies: 1, want: "192.0.2.7"},
		{name: "XFF IPv6 entry", xff: []string{"2001:db8::7, 172.16.0.2"}, numProxies: 2, want: "2001:db8::7"},
		{name: "XFF entry with port", xff: []string{"10.10.10.145:5555"}, numProxies: 1, want: "10.10.10.145"},
		{name: "no XFF with proxies", numProxies: 1, want: "192.0.2.7"},
		{name: "trusted header", header: "Cf-Connecting-Ip", trusted: map[string][]string{"Cf-Connecting-Ip": {" 203.0.113.9 "}}, xff: []string{"1.1.1.1"}, numProxies: 1, want: "203.0.113.9"},
		{name: "trusted header absent", header: "Cf-Connecting-Ip", xff: []string{"1.1.1.1"}, numProxies: 1, want: "1.1.1.1"},
		{name: "header not configured is ignored", trusted: map[string][]string{"X-Real-Ip": {"203.0.113.9"}}, want: "192.0.2.7"},
		{name: "empty trusted header falls through to XFF", header: "X-Real-Ip", trusted: map[string][]string{"X-Real-Ip": {""}}, xff: []string{"1.1.1.1"}, numProxies: 1, want: "1.1.1.1"},
		{name: "empty trusted header falls through to peer", header: "X-Real-Ip", trusted: map[string][]string{"X-Real-Ip": {"  "}}, want: "192.0.2.7"},
		{name: "trusted header not an IP", header: "X-Real-Ip", trusted: map[string][]string{"X-Real-Ip": {"not-an-ip"}}, want: "192.0.2.7"},
		{name: "trusted header with appended text", header: "X-Real-Ip", trusted: map[string][]string{"X-Real-Ip": {"1.2.3.4,user=admin"}}, want: "192.0.2.7"},
		{name: "trusted header with a zone", header: "X-Real-Ip", trusted: map[string][]string{"X-Real-Ip": {"fe80::1%user=admin"}}, want: "192.0.2.7"},
		{name: "repeated trusted header: the proxy's last copy wins", header: "X-Real-Ip", trusted: map[string][]string{"X-Real-Ip": {"6.6.6.6", "203.0.113.9"}}, want: "203.0.113.9"},
		{name: "trusted header as a list: the last entry", header: "X-Forwarded-For", trusted: map[string][]string{"X-Forwarded-For": {"6.6.6.6, 203.0.113.9"}}, want: "203.0.113.9"},
		{name: "trusted header IPv6", header: "X-Real-Ip", trusted: map[string][]string{"X-Real-Ip": {"2001:db8::9"}}, want: "2001:db8::9"},
		{name: "trusted header IPv6 kept as written", header: "X-Real-Ip", trusted: map[string][]string{"X-Real-Ip": {"2001:DB8:0::9"}}, want: "2001:DB8:0::9"},
		{name: "trusted header with port", header: "X-Real-Ip", trusted: map[string][]string{"X-Real-Ip": {"[2001:db8::9]:443"}}, want: "2001:db8::9"},
		{name: "overwrite header wins", overwrite: "X-Client-Ip", header: "X-Real-Ip", trusted: map[string][]string{"X-Real-Ip": {"203.0.113.9"}, "X-Client-Ip": {"198.51.100.4"}}, want: "198.51.100.4"},
		{name: "overwrite header absent: trusted header", overwrite: "X-Client-Ip", header: "X-Real-Ip", trusted: map[string][]string{"X-Real-Ip": {"203.0.113.9"}}, want: "203.0.113.9"},
		{name: "overwrite header empty: trusted header", overwrite: "X-Client-Ip", header: "X-Real-Ip", trusted: map[string][]string{"X-Real-Ip": {"203.0.113.9"}, "X-Client-Ip": {""}}, want: "203.0.113.9"},
		{name: "overwrite header not an IP: trusted header", overwrite: "X-Client-Ip", header: "X-Real-Ip", trusted: map[string][]string{"X-Real-Ip": {"203.0.113.9"}, "X-Client-Ip": {"unknown"}}, want: "203.0.113.9"},
		{name: "overwrite header alone", overwrite: "X-Client-Ip", trusted: map[string][]string{"X-Client-Ip": {"198.51.100.4"}}, xff: []string{"1.1.1.1"}, numProxies: 1, want: "198.51.100.4"},
		{name: "overwrite header empty, no trusted: XFF", overwrite: "X-Client-Ip", trusted: map[string][]string{"X-Client-Ip": {""}}, xff: []string{"1.1.1.1"}, numProxies: 1, want: "1.1.1.1"},
		{name: "IPv6 peer", peer: "[2001:db8::1]:443", want: "2001:db8::1"},
		{name: "IPv6 peer, header not an IP", peer: "[2001:db8::1]:443", header: "X-Real-Ip", trusted: map[string][]string{"X-Real-Ip": {"::1]"}}, want: "2001:db8::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &http.Request{RemoteAddr: "192.0.2.7:54321", Header: http.Header{}}
			if tt.peer != "" {
				r.RemoteAddr = tt.peer
			}
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			for k, vs := range tt.trusted {
				for _, v := range vs {
					r.Header.Add(k, v)
				}
			}
			if got := clientIP(r, tt.overwrite, tt.header, tt.numProxies); got != tt.want {
				t.Errorf("clientIP = %q, want %q", got, tt.want)
			}
		})
	}
	if got := peerIP("[2001:db8::1]:443"); got != "2001:db8::1" {
		t.Errorf("peerIP of IPv6 = %q", got)
	}
}
