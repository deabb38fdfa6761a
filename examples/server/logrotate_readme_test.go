package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/seal"
)

// readmeLogrotate returns the logrotate rule of README.md.
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

// TestREADMELogrotate runs README's logrotate rule with Debian's logrotate
// against the demo under load, three times: every answered request has
// exactly one line across audit.log and its rotated (and compressed) files.
func TestREADMELogrotate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the demo binary")
	}
	lr, err := exec.LookPath("logrotate")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("logrotate is not installed; .ci/run installs Debian's logrotate package")
		}
		t.Skip("logrotate is not installed (apt-get install logrotate)")
	}
	rule := readmeLogrotate(t)
	for _, want := range []string{"/var/log/psono/audit.log {", "create 0600", "systemctl kill --signal=HUP psono-server.service"} {
		if !strings.Contains(rule, want) {
			t.Fatalf("README's logrotate rule lost %q:\n%s", want, rule)
		}
	}
	p := startDemo(t, "")
	rule = strings.Replace(rule, "/var/log/psono/audit.log", filepath.Join(p.dir, "audit.log"), 1)
	rule = strings.Replace(rule, "systemctl kill --signal=HUP psono-server.service", fmt.Sprintf("kill -HUP %d", p.Pid()), 1)
	conf := filepath.Join(t.TempDir(), "logrotate.conf")
	state := filepath.Join(t.TempDir(), "state")
	if err := os.WriteFile(conf, []byte(rule), 0o644); err != nil {
		t.Fatal(err)
	}
	var answered atomic.Int64
	stop := make(chan struct{})
	result := make(chan []string, 1)
	go func() { result <- load(p.base, 8, stop, &answered) }()
	for i := 1; i <= 3; i++ {
		target := int64(i * 500)
		waitFor(t, "load", func() bool { return answered.Load() >= target })
		if out, err := exec.Command(lr, "-f", "-s", state, conf).CombinedOutput(); err != nil {
			t.Fatalf("logrotate: %v\n%s", err, out)
		}
	}
	waitFor(t, "load after the last rotation", func() bool { return answered.Load() >= 2000 })
	close(stop)
	got := <-result
	if err := p.Stop(60 * time.Second); err != nil {
		t.Fatalf("demo after SIGTERM: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(p.dir, "audit.log*"))
	ids := map[string]int{}
	gz := 0
	for _, name := range files {
		if strings.HasSuffix(name, seal.CheckpointsSuffix) {
			continue
		}
		if strings.HasSuffix(name, ".gz") {
			gz++
		}
		r, err := seal.OpenLog(name)
		if err != nil {
			t.Fatal(err)
		}
		err = seal.ReadLines(r, func(line []byte) error {
			l, err := psono.Parse(string(line))
			if err != nil {
				return fmt.Errorf("%s: %q: %w", name, line, err)
			}
			ids[l.Pairs[len(l.Pairs)-1].Value]++
			return nil
		})
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	if gz == 0 {
		t.Errorf("no compressed file after three rotations with compress and delaycompress: %v", files)
	}
	for _, id := range got {
		if ids[id] != 1 {
			t.Fatalf("request %s has %d lines across %v", id, ids[id], files)
		}
	}
	if len(ids) != len(got) {
		t.Fatalf("%d distinct records for %d answered requests", len(ids), len(got))
	}
}
