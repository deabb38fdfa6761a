package otelaudit

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/seal"
)

// noForwardEnv clears the environment that turns forwarding on or names
// its protocol, for the test.
func noForwardEnv(t *testing.T) {
	for _, v := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
		"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL"} {
		t.Setenv(v, "")
	}
}

// loadSettings writes text to settings.yaml in a folder of its own and
// loads it as a service does.
func loadSettings(t *testing.T, text string) (config.Settings, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "settings.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return s, path
}

// assertNothingCreated fails when folder (the audit folder) exists: Summary
// never opens or creates audit.log, its folder or its checkpoints.
func assertNothingCreated(t *testing.T, folder string) {
	t.Helper()
	if _, err := os.Lstat(folder); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Summary made %s (or it was there): %v", folder, err)
	}
}

// TestSummary: the line names what is on, in the documented order, with
// values quoted only where they must be, and never the key.
func TestSummary(t *testing.T) {
	noForwardEnv(t)
	dir := t.TempDir()
	folder := filepath.Join(dir, "audit log") // a space: quoted
	s, path := loadSettings(t, "LOGGING_AUDIT: True\nLOGGING_AUDIT_FOLDER: "+folder+"\n"+
		"LOGGING_AUDIT_DURABILITY: fsync\nLOGGING_AUDIT_STRICT: True\n"+
		"LOGGING_AUDIT_WHITELIST: ['LOGIN_*', 'READ_INFO_SUCCESS']\nLOGGING_AUDIT_BLACKLIST: ['CHECK_HEALTH_SUCCESS']\n")
	got, err := Summary(s)
	if err != nil {
		t.Fatal(err)
	}
	want := `audit=on settings=` + path + ` folder="` + folder + `" durability=fsync strict=on sealing=off forwarding=off whitelist=2 blacklist=1 version=` + quoteIfNeeded(Version())
	if got != want {
		t.Errorf("Summary:\n got %s\nwant %s", got, want)
	}
	assertNothingCreated(t, folder)

	// Audit off: nothing is sealed or forwarded, whatever is set, and the
	// key file is not read (the service does not read it either).
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
	off := config.Default()
	off.Folder, off.SealKey = filepath.Join(dir, "unused"), filepath.Join(dir, "missing.key")
	got, err = Summary(off)
	if err != nil {
		t.Fatal(err)
	}
	if want := "audit=off folder=" + off.Folder + " durability=write strict=off sealing=off forwarding=off whitelist=0 blacklist=0 version="; !strings.HasPrefix(got, want) {
		t.Errorf("Summary of settings with audit off (made in code: no settings field):\n got %s\nwant %s...", got, want)
	}

	// Hand-built settings are validated as New validates them.
	bad := config.Default()
	bad.Folder, bad.Strict = dir, true
	if _, err := Summary(bad); err == nil || !strings.Contains(err.Error(), "LOGGING_AUDIT_STRICT") {
		t.Errorf("Summary of strict mode with audit off: %v; want the settings refused", err)
	}
}

// quoteIfNeeded quotes a summary value as Summary does.
func quoteIfNeeded(v string) string {
	var b summaryLine
	b.add("", v)
	return strings.TrimPrefix(b.String(), "=")
}

// TestSummaryOneLine: a value with a line break or a quote stays inside
// one quoted field.
func TestSummaryOneLine(t *testing.T) {
	noForwardEnv(t)
	s := config.Default()
	s.Enabled, s.Folder = true, filepath.Join(t.TempDir(), "a\nb \"c\"=d\u2028")
	got, err := Summary(s)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(got, "\n\r\u2028") || !strings.Contains(got, `folder="`) {
		t.Errorf("Summary = %q; want one line with the folder quoted", got)
	}
	for _, v := range []string{"", "a b", `a"b`, "a=b", "a\tb", "\xff"} {
		if !needsQuote(v) {
			t.Errorf("needsQuote(%q) = false", v)
		}
	}
	for _, v := range []string{"/var/log/psono", "(devel)", "http://h:4318/v1/logs", "grüße", `C:\logs`} {
		if needsQuote(v) {
			t.Errorf("needsQuote(%q) = true", v)
		}
	}
}

// TestSummarySealing: the key's fingerprint is its name and key hash, the
// start of the public key file, and the key itself appears nowhere; the
// log name is the one the checkpoints will carry.
func TestSummarySealing(t *testing.T) {
	noForwardEnv(t)
	keyDir := t.TempDir()
	keyPath, pubPath, err := seal.WriteKeyFiles(keyDir, "psono-audit-test")
	if err != nil {
		t.Fatal(err)
	}
	folder := filepath.Join(t.TempDir(), "log")
	s, _ := loadSettings(t, "LOGGING_AUDIT: True\nLOGGING_AUDIT_FOLDER: "+folder+"\nLOGGING_AUDIT_SEAL_KEY: "+keyPath+"\n")
	got, err := Summary(s)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := os.ReadFile(pubPath)
	priv, _ := os.ReadFile(keyPath)
	fields := strings.SplitN(strings.TrimSpace(string(pub)), "+", 3) // name, hash, key (base64, which may hold '+')
	want := "sealing=" + fields[0] + "+" + fields[1] + " log_name=" + seal.DefaultLogName(s.LogPath()) + " forwarding=off"
	if len(fields) != 3 || !strings.Contains(got, want) {
		t.Errorf("Summary = %s\nwant it to hold %s", got, want)
	}
	privKey := strings.SplitN(strings.TrimSpace(string(priv)), "+", 5) // PRIVATE, KEY, name, hash, key
	if len(privKey) != 5 || strings.Contains(got, fields[2]) || strings.Contains(got, privKey[4]) {
		t.Errorf("Summary = %s: it holds key material", got)
	}
	assertNothingCreated(t, folder)

	s.SealLogName = "web-1.example.com/audit"
	if got, err := Summary(s); err != nil || !strings.Contains(got, " log_name=web-1.example.com/audit ") {
		t.Errorf("Summary with LOGGING_AUDIT_SEAL_LOG_NAME = %s, %v", got, err)
	}
}

// TestSummaryKeyErrors: a key file New would refuse is an error naming the
// setting and where it was set, as New's; a key others may read is a
// warning in the summary without strict mode, an error with it.
func TestSummaryKeyErrors(t *testing.T) {
	noForwardEnv(t)
	keyDir := t.TempDir()
	keyPath, pubPath, err := seal.WriteKeyFiles(keyDir, "psono-audit-test")
	if err != nil {
		t.Fatal(err)
	}
	folder := filepath.Join(t.TempDir(), "log")
	for _, tt := range []struct {
		key, want string
	}{
		{filepath.Join(keyDir, "missing.key"), "seal: private key: open "},
		{pubPath, "is not a private key"},
	} {
		s, path := loadSettings(t, "LOGGING_AUDIT: True\nLOGGING_AUDIT_FOLDER: "+folder+"\nLOGGING_AUDIT_SEAL_KEY: "+tt.key+"\n")
		_, err := Summary(s)
		var ce *config.Error
		if !errors.As(err, &ce) || ce.Source != path || ce.Line != 3 || ce.Key != "LOGGING_AUDIT_SEAL_KEY" || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Summary with the key %s: %v; want %s:3: LOGGING_AUDIT_SEAL_KEY: ...%s...", tt.key, err, path, tt.want)
		}
		// New says the same (in a folder of its own: it makes the folder).
		sn := s
		sn.Folder = filepath.Join(t.TempDir(), "log")
		if _, nerr := New(sn); nerr == nil || err == nil || nerr.Error() != err.Error() {
			t.Errorf("New with the key %s: %v; Summary: %v; want the same error", tt.key, nerr, err)
		}
	}
	assertNothingCreated(t, folder)

	if runtime.GOOS == "windows" {
		return // file modes say nothing there (seal.CheckKeyFile)
	}
	if err := os.Chmod(keyPath, 0o644); err != nil {
		t.Fatal(err)
	}
	s, _ := loadSettings(t, "LOGGING_AUDIT: True\nLOGGING_AUDIT_FOLDER: "+folder+"\nLOGGING_AUDIT_SEAL_KEY: "+keyPath+"\n")
	got, err := Summary(s)
	if err != nil || !strings.Contains(got, ` key_warning="seal: private key `+keyPath+` has mode 0644`) {
		t.Errorf("Summary with a key others can read, without strict mode = %s, %v; want a key_warning", got, err)
	}
	s, path := loadSettings(t, "LOGGING_AUDIT: True\nLOGGING_AUDIT_FOLDER: "+folder+"\nLOGGING_AUDIT_STRICT: True\nLOGGING_AUDIT_SEAL_KEY: "+keyPath+"\n")
	if _, err := Summary(s); err == nil || !strings.HasPrefix(err.Error(), path+":4: LOGGING_AUDIT_SEAL_KEY: seal: private key "+keyPath+" has mode 0644") {
		t.Errorf("Summary with a key others can read, in strict mode: %v; want it refused as New refuses it", err)
	}
	assertNothingCreated(t, folder)
}

// TestSummaryForwarding: the endpoint of the environment, without what may
// hold a credential, and its protocol; a protocol New refuses is an error.
func TestSummaryForwarding(t *testing.T) {
	noForwardEnv(t)
	s := config.Default()
	s.Enabled, s.Folder = true, filepath.Join(t.TempDir(), "log")

	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "https://user:s3cret@collector.example:4318/base?token=t0ken#frag")
	got, err := Summary(s)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, " forwarding=https://xxxxx@collector.example:4318/base protocol=http/protobuf ") ||
		strings.Contains(got, "s3cret") || strings.Contains(got, "t0ken") || strings.Contains(got, "user") {
		t.Errorf("Summary = %s; want the endpoint without its credentials, and http/protobuf", got)
	}

	t.Setenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "collector.example:4317") // wins over the other
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	if got, err := Summary(s); err != nil || !strings.Contains(got, " forwarding=collector.example:4317 protocol=grpc ") {
		t.Errorf("Summary = %s, %v; want the logs endpoint over grpc", got, err)
	}

	t.Setenv("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "http/json")
	_, err = Summary(s)
	sn := s
	sn.Folder = filepath.Join(t.TempDir(), "log") // New makes it
	if _, nerr := New(sn); err == nil || nerr == nil || err.Error() != nerr.Error() {
		t.Errorf("Summary with an unsupported protocol: %v; New: %v; want the same error", err, nerr)
	}
	assertNothingCreated(t, s.Folder)

	for in, want := range map[string]string{
		"http://127.0.0.1:4318":                   "http://127.0.0.1:4318",
		"https://tok@h:4318/v1/logs":              "https://xxxxx@h:4318/v1/logs",
		"user:pass@h:4317":                        "xxxxx@h:4317",
		"http://h:4318/p@th?k=v":                  "http://h:4318/p@th",
		"http://[::1]:4318#x":                     "http://[::1]:4318",
		"https://a:b@c@h.example/v1/logs?x=@y#@z": "https://xxxxx@h.example/v1/logs",
	} {
		if got := redactEndpoint(in); got != want {
			t.Errorf("redactEndpoint(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestVersionOf: the version of this module in the build information, with
// the revision go build stamped, or of the module a service requires.
func TestVersionOf(t *testing.T) {
	vcs := []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.modified", Value: "true"},
		{Key: "vcs.time", Value: "2026-12-04T21:51:03Z"}, {Key: "vcs.revision", Value: "d35d4e97da5e2725eef0f6c9785fa4459de8589b"}}
	for _, tt := range []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"checkout, -buildvcs=false", debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: "(devel)"}}, "(devel)"},
		{"checkout, stamped", debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: "v0.0.0-20261204215103-d35d4e97da5e+dirty"}, Settings: vcs},
			"v0.0.0-20261204215103-d35d4e97da5e+dirty vcs.revision=d35d4e97da5e2725eef0f6c9785fa4459de8589b vcs.modified=true"},
		{"go install @version", debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: "v1.4.0"}}, "v1.4.0"},
		{"a service's dependency", debug.BuildInfo{Main: debug.Module{Path: "example.com/svc", Version: "(devel)"}, Settings: vcs,
			Deps: []*debug.Module{{Path: "go.opentelemetry.io/otel", Version: "v1.47.0"}, {Path: modulePath, Version: "v1.4.0"}}}, "v1.4.0"},
		{"replaced by a folder", debug.BuildInfo{Main: debug.Module{Path: "example.com/svc"},
			Deps: []*debug.Module{{Path: modulePath, Version: "v0.0.0-00010101000000-000000000000", Replace: &debug.Module{Path: "../.."}}}}, "(devel)"},
		{"replaced by a fork", debug.BuildInfo{Main: debug.Module{Path: "example.com/svc"},
			Deps: []*debug.Module{{Path: modulePath, Version: "v1.4.0", Replace: &debug.Module{Path: "example.com/fork", Version: "v1.4.1"}}}}, "v1.4.1"},
		{"not in the program", debug.BuildInfo{Main: debug.Module{Path: "example.com/svc"}}, "unknown"},
	} {
		if got := versionOf(&tt.bi); got != tt.want {
			t.Errorf("%s: versionOf = %q, want %q", tt.name, got, tt.want)
		}
	}
	// This test's program is of this module.
	bi, _ := debug.ReadBuildInfo()
	if v := Version(); !strings.HasPrefix(v, bi.Main.Version) || bi.Main.Path != modulePath {
		t.Errorf("Version() = %q; the test program's main module is %s %s", v, bi.Main.Path, bi.Main.Version)
	}
}
