//go:build linux

package collector_test

import (
	"context"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/otelaudit/otelaudit/internal/collectortest"
	"github.com/otelaudit/otelaudit/internal/vlogstest"
)

// vmuiMessage matches the message cell of a row in vmui's log list
// (VictoriaLogs v1.52.1): <div class="vm-group-logs-row-content__msg">
// holding the message in one or more spans.
var (
	vmuiMessage = regexp.MustCompile(`(?s)<div class="vm-group-logs-row-content__msg">(.*?)</div>`)
	htmlTag     = regexp.MustCompile(`<[^>]*>`)
)

// TestVMUIShowsPsonoLine is the "missing _msg field" complaint as a
// person meets it: the demo forwards with the default schema through
// otlp-to-backend.yaml into a real VictoriaLogs, and headless Chromium
// (Debian's chromium) opens VictoriaLogs' web UI (vmui) on the query "*"
// and dumps the rendered page (--dump-dom). Every line of audit.log must be
// a row's message, and no row may read "missing _msg field".
func TestVMUIShowsPsonoLine(t *testing.T) {
	skipShort(t)
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("Debian's chromium is not installed (apt-get install chromium; .ci/run installs it): the headless test of VictoriaLogs' UI needs it")
	}
	vl := vlogstest.Start(t)
	c := collectortest.Start(t, readConfig(t, "otlp-to-backend.yaml"),
		collectortest.WithEnv("BACKEND_OTLP_ENDPOINT", vl.OTLPEndpoint))
	lines := demoSession(t, c, "")
	vl.WaitQuery(t, "*", len(lines), time.Minute)

	// The records are from the last minute, inside vmui's default time
	// range; the query and the row limit travel in the hash route.
	page := vl.URL + "/select/vmui/#/?query=*&limit=1000"
	want := append([]string(nil), lines...)
	sort.Strings(want)

	// The page renders after vmui has fetched the rows: dump it again until
	// every line is there, or give up at the deadline.
	deadline := time.Now().Add(2 * time.Minute)
	var msgs []string
	var dom string
	for attempt := 1; ; attempt++ {
		dom = dumpDOM(t, chromium, page)
		msgs = msgs[:0]
		for _, m := range vmuiMessage.FindAllStringSubmatch(dom, -1) {
			msgs = append(msgs, html.UnescapeString(htmlTag.ReplaceAllString(m[1], "")))
		}
		sort.Strings(msgs)
		if strings.Join(msgs, "\n") == strings.Join(want, "\n") {
			t.Logf("vmui shows the %d lines of audit.log as the rows' messages (attempt %d)", len(msgs), attempt)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("vmui's rows do not show the %d lines of audit.log as their messages after %d attempts:\n got %q\nwant %q\npage (%d bytes): %.4000s",
				len(want), attempt, msgs, want, len(dom), dom)
		}
	}
	if strings.Contains(dom, "missing _msg field") {
		t.Errorf("the page shows \"missing _msg field\"")
	}
}

// dumpDOM runs headless Chromium on url and returns the DOM it serialized
// after the page's scripts ran (--virtual-time-budget lets the page's
// timers and fetches settle first). Chromium's profile, cache and
// configuration stay in a temporary directory; the process group is killed
// when the run takes longer than a minute.
func dumpDOM(t *testing.T, chromium, url string) string {
	t.Helper()
	home := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--no-default-browser-check", "--disable-extensions",
		"--user-data-dir="+filepath.Join(home, "profile"),
		"--virtual-time-budget=15000",
		"--dump-dom", url)
	cmd.Env = append(os.Environ(),
		"HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, "config"),
		"XDG_CACHE_HOME="+filepath.Join(home, "cache"),
		"XDG_DATA_HOME="+filepath.Join(home, "data"),
	)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom %s: %v\n%s", url, err, tail(stderr.String(), 2000))
	}
	return string(out)
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
