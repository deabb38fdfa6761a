package instrument

import (
	"context"
	"net"
	"os/exec"
	"strings"
	"testing"
)

type fakeResolver struct {
	hosts map[string][]string
	addrs map[string][]string
}

func (f fakeResolver) LookupHost(_ context.Context, host string) ([]string, error) {
	if a, ok := f.hosts[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func (f fakeResolver) LookupAddr(_ context.Context, addr string) ([]string, error) {
	if n, ok := f.addrs[addr]; ok {
		return n, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: addr, IsNotFound: true}
}

// TestFQDN follows Python's socket.getfqdn: the host name's first address,
// reverse-resolved; the first name with a dot, else the first name; the
// host name when a lookup fails.
func TestFQDN(t *testing.T) {
	r := fakeResolver{
		hosts: map[string][]string{
			"web1":         {"10.0.0.5", "10.0.0.6"},
			"0a5048185933": {"172.17.0.2"},
			"vm":           {"127.0.0.1"},
			"lonely":       {"10.9.9.9"},
		},
		addrs: map[string][]string{
			"10.0.0.5":   {"web1.", "web1.example.com."},
			"10.0.0.6":   {"other.example.com."},
			"172.17.0.2": {"0a5048185933."},
			"127.0.0.1":  {"localhost.", "vm."},
		},
	}
	tests := []struct{ host, want string }{
		{"web1", "web1.example.com"},
		{"0a5048185933", "0a5048185933"},
		{"vm", "localhost"},
		{"lonely", "lonely"},
		{"unknown", "unknown"},
	}
	for _, tt := range tests {
		if got := fqdn(context.Background(), r, tt.host); got != tt.want {
			t.Errorf("fqdn(%q) = %q, want %q", tt.host, got, tt.want)
		}
	}
}

// TestFQDNReal asks this machine's resolver, and Python when it is there.
func TestFQDNReal(t *testing.T) {
	got := FQDN()
	if got == "" {
		t.Fatal("FQDN is empty")
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Logf("FQDN = %q (no python3 to compare with)", got)
		return
	}
	out, err := exec.Command(python, "-c", "import socket; print(socket.getfqdn())").Output()
	if err != nil {
		t.Skipf("python3: %v", err)
	}
	if want := strings.TrimSpace(string(out)); got != want {
		t.Errorf("FQDN = %q, Python's socket.getfqdn() = %q", got, want)
	}
}
