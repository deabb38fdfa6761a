package main

import (
	"bufio"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	otelauditlib "github.com/otelaudit/otelaudit" // not otelaudit: main_test.go has a func of that name
)

// buildInfoVersion returns the version of the module the go command says
// the binary at path was built from (go version -m), followed by the
// vcs.revision and vcs.modified it stamped.
func buildInfoVersion(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("go", "version", "-m", path).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	var version string
	settings := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 3 && f[0] == "mod":
			version = f[2]
		case len(f) >= 2 && f[0] == "build":
			if k, v, ok := strings.Cut(f[1], "="); ok {
				settings[k] = v
			}
		}
	}
	for _, k := range []string{"vcs.revision", "vcs.modified"} {
		if v, ok := settings[k]; ok {
			version += " " + k + "=" + v
		}
	}
	return version
}

// TestVersion: otelaudit version prints the version the build information
// holds, as go version -m reads it from the binary, and the same as the
// startup summary (otelaudit.Version).
func TestVersion(t *testing.T) {
	code, out, errOut := otelaudit(t, "version")
	if want := "otelaudit " + buildInfoVersion(t, binary) + "\n"; code != 0 || out != want {
		t.Errorf("otelaudit version: exit %d, %q, %q; want %q", code, out, errOut, want)
	}
	code, out, _ = runCLI("version")
	if want := "otelaudit " + otelauditlib.Version() + "\n"; code != 0 || out != want {
		t.Errorf("version in process: exit %d, %q; want %q", code, out, want)
	}
	for _, args := range [][]string{{"version", "x"}, {"version", "-v"}} {
		if code, _, _ := runCLI(args...); code != 2 {
			t.Errorf("otelaudit %q: exit %d, want 2", args, code)
		}
	}
	if code, out, _ := runCLI("help", "version"); code != 0 || !strings.Contains(out, "vcs.revision") {
		t.Errorf("help version: exit %d, %q", code, out)
	}
}

// TestVersionStamped: built with version control stamping in this
// checkout, the version names the revision and whether the tree was
// modified.
func TestVersionStamped(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command again")
	}
	bin := filepath.Join(t.TempDir(), "otelaudit")
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Skipf("no build with version control information here (not a git checkout?): %v\n%s", err, out)
	}
	want := buildInfoVersion(t, bin)
	if !strings.Contains(want, " vcs.revision=") || !strings.Contains(want, " vcs.modified=") {
		t.Fatalf("go version -m says %q: no revision stamped", want)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil || string(out) != "otelaudit "+want+"\n" {
		t.Errorf("otelaudit version = %q, %v; want %q", out, err, "otelaudit "+want)
	}
}
