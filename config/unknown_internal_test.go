package config

import "testing"

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"ABC", "ABC", 0},
		{"", "ABC", 3},
		{"LOGGING_AUDIT_STRIKT", "LOGGING_AUDIT_STRICT", 1},       // replace
		{"LOGGING_AUDIT_BLACKLSIT", "LOGGING_AUDIT_BLACKLIST", 1}, // swap
		{"LOGGING_AUDIT_SEAL_KEYS", "LOGGING_AUDIT_SEAL_KEY", 1},  // insert
		{"LOGING_AUDIT", "LOGGING_AUDIT", 1},                      // delete
		{"NUM_PROXYS", "NUM_PROXIES", 2},
		{"NUM_PROXY", "NUM_PROXIES", 3},
		{"CA", "ABC", 3}, // the restricted distance edits each part once
		{"TRUSTED_COUNTRY_HEADER", "TRUSTED_IP_HEADER", 7},
	}
	for _, tt := range tests {
		for _, bound := range []int{3, 100} {
			want := min(tt.want, bound)
			if got := editDistance(tt.a, tt.b, bound); got != want {
				t.Errorf("editDistance(%q, %q, %d) = %d, want %d", tt.a, tt.b, bound, got, want)
			}
			if got := editDistance(tt.b, tt.a, bound); got != want {
				t.Errorf("editDistance(%q, %q, %d) = %d, want %d", tt.b, tt.a, bound, got, want)
			}
		}
	}
}
