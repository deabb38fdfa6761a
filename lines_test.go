package otelaudit_test

import (
	"os"
	"strings"
	"testing"
)

// countLines returns how many lines the file at path holds.
func countLines(t *testing.T, path string) int {
	t.Helper()
	return len(auditLines(t, path))
}

// auditLines returns the lines of the file at path without their newlines;
// none for an empty file.
func auditLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}
