package instrument

import (
	"net"
	"net/http"
	"strings"
)

// clientIP picks the client's IP by Psono's rule: the trusted header when one
// is configured and present; else, when NUM_PROXIES is set and not 0 and the
// request has an X-Forwarded-For, the entry NUM_PROXIES places from its right
// end (clamped to the list's length); else the peer address. With NUM_PROXIES
// unset the peer address is used, whatever X-Forwarded-For says.
func clientIP(r *http.Request, trustedHeader string, numProxies int, numProxiesSet bool) string {
	if trustedHeader != "" {
		if v := r.Header.Values(trustedHeader); len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
	}
	if numProxiesSet && numProxies > 0 {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			list := strings.Join(xff, ",")
			if strings.TrimSpace(list) != "" {
				addrs := strings.Split(list, ",")
				n := min(numProxies, len(addrs))
				return strings.TrimSpace(addrs[len(addrs)-n])
			}
		}
	}
	return peerIP(r.RemoteAddr)
}

// peerIP strips the port from a RemoteAddr.
func peerIP(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}
