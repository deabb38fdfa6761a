package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readmeLogrotate returns the logrotate rule of README.md (TestLogrotate
// runs it).
func readmeLogrotate(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var rule []string
	in := false
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimPrefix(l, "  ") // the rule sits in a list item
		switch {
		case l == "```logrotate":
			in = true
		case in && l == "```":
			return strings.Join(rule, "\n") + "\n"
		case in:
			rule = append(rule, l)
		}
	}
	t.Fatal("README.md has no ```logrotate block")
	return ""
}
