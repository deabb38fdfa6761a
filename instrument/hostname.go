package instrument

import (
	"context"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

// FQDN returns the host's name as Python's socket.getfqdn() gives it, the
// host name Psono writes into its audit lines: os.Hostname, resolved to its
// first address, whose names the resolver gives by a reverse lookup; the
// first of those names that holds a dot, else the first of them. When a
// lookup fails (or takes more than 5 seconds) it is the host name itself. In
// a container this is usually the container id. It is looked up once per
// process, as Psono does when it loads its settings.
func FQDN() string { return fqdnOnce() }

var fqdnOnce = sync.OnceValue(func() string {
	host, err := os.Hostname()
	if err != nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return fqdn(ctx, net.DefaultResolver, host)
})

// A resolver looks host names and addresses up; *net.Resolver is one.
type resolver interface {
	LookupHost(ctx context.Context, host string) ([]string, error)
	LookupAddr(ctx context.Context, addr string) ([]string, error)
}

// fqdn does what Python's socket.getfqdn(host) does: gethostbyaddr(host),
// then the first name with a dot among the canonical name and its aliases,
// else the canonical name; host itself when a lookup fails.
func fqdn(ctx context.Context, r resolver, host string) string {
	addrs, err := r.LookupHost(ctx, host)
	if err != nil || len(addrs) == 0 {
		return host
	}
	names, err := r.LookupAddr(ctx, addrs[0])
	if err != nil || len(names) == 0 {
		return host
	}
	for i, n := range names {
		names[i] = strings.TrimSuffix(n, ".") // Go writes names absolute
	}
	for _, n := range names {
		if strings.Contains(n, ".") {
			return n
		}
	}
	if names[0] == "" {
		return host
	}
	return names[0]
}
