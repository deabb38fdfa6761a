package instrument

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientIP picks the client's IP by Psono's rule (get_ip), in order:
//
//  1. the overwrite header, when one is configured and the request carries
//     it with an IP address;
//  2. the trusted header, likewise;
//  3. when numProxies is above 0 and the request has an X-Forwarded-For:
//     the entry numProxies places from its right end (clamped to the list's
//     length), when that entry is an IP address;
//  4. the peer address.
//
// Psono logs a header's value as it is. Here only an IP address is ever taken
// from a header, and a client cannot choose it: a header sent several times
// (Django joins the copies with ",") or holding a list gives its last entry,
// the one the nearest proxy appended, not a copy the client sent in front of
// it. An entry that is empty or not an IP address (with or without a port,
// which is dropped) falls through to the next rule. For a single well-formed
// address the result is Psono's. With numProxies 0, as with NUM_PROXIES unset
// in Psono, X-Forwarded-For is ignored.
func clientIP(r *http.Request, overwriteHeader, trustedHeader string, numProxies int) string {
	for _, h := range [...]string{overwriteHeader, trustedHeader} {
		if h == "" {
			continue
		}
		if list := joinedHeader(r, h); list != "" {
			if ip, ok := parseIP(list[strings.LastIndexByte(list, ',')+1:]); ok {
				return ip
			}
		}
	}
	if numProxies > 0 {
		if list := joinedHeader(r, "X-Forwarded-For"); list != "" {
			addrs := strings.Split(list, ",")
			if ip, ok := parseIP(addrs[len(addrs)-min(numProxies, len(addrs))]); ok {
				return ip
			}
		}
	}
	return peerIP(r.RemoteAddr)
}

// joinedHeader returns the values of the header name joined by ",", as
// Django presents a header sent several times, or "" when there is none or
// all are blank.
func joinedHeader(r *http.Request, name string) string {
	list := strings.Join(r.Header.Values(name), ",")
	if strings.TrimSpace(list) == "" {
		return ""
	}
	return list
}

// parseIP returns s, stripped of surrounding spaces, when it is an IP address
// (IPv4, or IPv6 without a zone). An address with a port ("192.0.2.1:443",
// "[2001:db8::1]:443") gives the address alone. Anything else is not an IP.
func parseIP(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Zone() != "" {
			return "", false // a zone is free text
		}
		return s, true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil && ap.Addr().Zone() == "" {
		return ap.Addr().String(), true
	}
	return "", false
}

// peerIP strips the port from a RemoteAddr.
func peerIP(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}
