package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// keygen writes only into -dir: a NAME with a path separator or ".." is
// refused.
func TestKeygenConfinedToDir(t *testing.T) {
	tests := []struct {
		name   string
		wantOK bool
	}{
		{"psono-audit-prod", true},
		{"audit.v2", true},
		{"../evil", false},
		{"..", false},
		{".", false},
		{"sub/key", false},
		{"sub/../key", false},
		{"/tmp/evil", false},
		{"a..b", false},
		{`..\evil`, false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "keys", "here")
			os.MkdirAll(filepath.Join(dir, "sub"), 0o700)
			code, out, errOut := cli(t, context.Background(), "keygen", "-dir", dir, tt.name)
			var written []string
			filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					written = append(written, p)
				}
				return nil
			})
			if !tt.wantOK {
				if code != 2 || !strings.Contains(errOut, "NAME") || len(written) != 0 {
					t.Errorf("keygen %q: exit %d, stderr %q, files %q; want exit 2, a message about NAME, no file", tt.name, code, errOut, written)
				}
				return
			}
			want := []string{filepath.Join(dir, tt.name+".key"), filepath.Join(dir, tt.name+".pub")}
			if code != 0 || strings.Join(written, " ") != strings.Join(want, " ") || !strings.Contains(out, want[0]) {
				t.Errorf("keygen %q: exit %d, files %q, stdout %q, stderr %q; want exit 0 and %q", tt.name, code, written, out, errOut, want)
			}
		})
	}
}
