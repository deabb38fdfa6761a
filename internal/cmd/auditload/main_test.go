package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestRun drives both demo modes briefly and checks that the report is
// complete and that audit.log holds a line for every answered request.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the demo server")
	}
	t.Chdir("../../..") // auditload builds ./examples/server from the module root
	var out bytes.Buffer
	err := run([]string{"-clients", "2", "-rounds", "2", "-duration", "200ms", "-warmup", "100ms"}, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, &out)
	}
	for _, want := range []string{"server CPU µs/req", "medians over the rounds", "every answered request has its line"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, &out)
		}
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-clients", "0"}, {"-modes", "nonsense"}} {
		if err := run(args, new(bytes.Buffer)); err == nil {
			t.Errorf("run(%q) succeeded, want an error", args)
		}
	}
}
