package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Nothing from a file reaches the terminal raw: search and tail escape
// every control byte, DEL, C1 control and byte that is not UTF-8 in their
// text output, -json stays valid JSON without them, and messages on stderr
// escape them too.
func TestOutputEscapesControls(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	// Psono itself writes control characters in values as they are.
	hostile := "2026-11-29T10:00:00 logger=restapi.views.x, user_ip=10.0.0.1, req_method=GET, " +
		"req_url=/a\x1b[2J\x1b]0;pwned\x07/\x00\x9b, success=True, hostname=h\x7f\xc2\x9b\xff\xe2\x80, " +
		"status=HTTP_200_OK, event=READ_INFO_SUCCESS, user=\"a\tb\rc\x1bP\x1b\\\\\", user_id=\x05"
	notRecord := "\x1b[31mnot a record\x1b[0m\x07"
	os.WriteFile(path, []byte(hostile+"\n"+notRecord+"\n"), 0o600)
	missing := filepath.Join(dir, "\x1b[31mmissing\x07.log")

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string // escapes that must be in the output
	}{
		{"search", []string{"search", path}, 0, []string{`/a\x1b[2J\x1b]0;pwned\x07/\x00\x9b`, `h\x7f\u009b\xff\xe2\x80`, `"a\x09b\x0dc\x1bP\x1b\\"`, `user_id=\x05`}},
		{"tail", []string{"tail", path}, 0, []string{`/a\x1b[2J\x1b]0;pwned\x07/\x00\x9b`, `h\x7f\u009b\xff\xe2\x80`}},
		{"search -json", []string{"search", "-json", path}, 0, []string{`\u001b[2J`, `\u007f\u009b\ufffd`}},
		{"tail -json", []string{"tail", "-json", path}, 0, []string{`\u001b[2J`}},
		{"search of a missing file", []string{"search", path, missing}, 2, nil},
		{"tail of a missing file", []string{"tail", missing}, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := cli(t, context.Background(), tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d\nstderr: %q", code, tt.wantCode, errOut)
			}
			if c := rawControl(out); c != "" {
				t.Errorf("stdout holds a raw %s: %q", c, out)
			}
			if c := rawControl(errOut); c != "" {
				t.Errorf("stderr holds a raw %s: %q", c, errOut)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("stdout %q does not hold %q", out, w)
				}
			}
			if tt.wantCode == 2 && !strings.Contains(errOut, `\x1b[31mmissing\x07.log`) {
				t.Errorf("stderr %q does not name the missing file, escaped", errOut)
			}
			if strings.Contains(tt.name, "json") {
				var obj map[string]any
				if err := json.Unmarshal([]byte(out), &obj); err != nil {
					t.Fatalf("-json printed %q: %v", out, err)
				}
				if got, want := obj["url.path"], "/a\x1b[2J\x1b]0;pwned\x07/\x00\ufffd"; got != want {
					t.Errorf("url.path %q, want %q", got, want)
				}
				if got, want := obj["host.name"], "h\x7f\u009b\ufffd\ufffd\ufffd"; got != want {
					t.Errorf("host.name %q, want %q", got, want)
				}
			}
		})
	}
}
