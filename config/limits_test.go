package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/otelaudit/otelaudit/config"
)

// TestDeepTOML checks that a small TOML file nested thousands deep, which
// takes the TOML decoder gigabytes, is refused before it is decoded: with an
// error naming the file, the line and the limit, in bounded memory.
func TestDeepTOML(t *testing.T) {
	const size = 40 << 10
	levels := (size - len("LOGGING_AUDIT = true\nx = 1\n")) / len("{a=}")
	doc := "LOGGING_AUDIT = true\nx = " + strings.Repeat("{a=", levels) + "1" + strings.Repeat("}", levels) + "\n"
	path := writeFile(t, "settings.toml", doc)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := config.Load(path)
	runtime.ReadMemStats(&after)

	want := fmt.Sprintf("%s:2: nested deeper than %d levels", path, config.MaxSettingsDepth)
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "MaxSettingsDepth") {
		t.Errorf("Load of %d bytes nested %d deep = %v, want an error starting %q", len(doc), levels, err, want)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("Load of %d bytes nested %d deep allocated %d MiB, want at most 64", len(doc), levels, alloc>>20)
	}
}

// TestSettingsLimits checks each way past the size and nesting limits, and
// that they are checked before the file is parsed.
func TestSettingsLimits(t *testing.T) {
	deep := config.MaxSettingsDepth + 1
	tests := []struct {
		name, file, text string
		want             string // the error after "path"
	}{
		{"YAML too large", "settings.yaml", "LOGGING_AUDIT: True\n# " + strings.Repeat("x", config.MaxSettingsSize) + "\n",
			fmt.Sprintf(": larger than %d KiB", config.MaxSettingsSize>>10)},
		{"TOML too large", "settings.toml", "LOGGING_AUDIT = true\n# " + strings.Repeat("x", config.MaxSettingsSize) + "\n",
			fmt.Sprintf(": larger than %d KiB", config.MaxSettingsSize>>10)},
		{"too large and not YAML", "settings.yaml", "[" + strings.Repeat("x", config.MaxSettingsSize), ": larger than"},
		{"inline tables", "settings.toml", "a = 1\n\nb = " + strings.Repeat("{a=", deep) + "1" + strings.Repeat("}", deep) + "\n", ":3: nested deeper"},
		{"arrays", "settings.toml", "b = " + strings.Repeat("[", deep) + "1" + strings.Repeat("]", deep) + "\n", ":1: nested deeper"},
		{"dotted key", "settings.toml", "a = 1\nb" + strings.Repeat(".b", deep) + " = 1\n", ":2: nested deeper"},
		{"dotted key in inline table", "settings.toml", "a = {" + strings.Repeat("b.", deep) + "c = 1}\n", ":1: nested deeper"},
		{"table header", "settings.toml", "[a" + strings.Repeat(".a", deep) + "]\nx = 1\n", ":1: nested deeper"},
		{"array of tables header", "settings.toml", "[[a" + strings.Repeat(".a", deep-1) + "]]\nx = 1\n", ":1: nested deeper"},
		{"header, key and value together", "settings.toml",
			"[a" + strings.Repeat(".a", deep/3) + "]\nb" + strings.Repeat(".b", deep/3) + " = " + strings.Repeat("[", deep/3+1) + strings.Repeat("]", deep/3+1) + "\n", ":2: nested deeper"},
		{"deep and broken", "settings.toml", "a = " + strings.Repeat("{", deep), ":1: nested deeper"},
		{"after a broken header", "settings.toml", "[a\nb = " + strings.Repeat("{a=", deep) + "\n", ":2: nested deeper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.file, tt.text)
			if _, err := config.Load(path); err == nil || !strings.HasPrefix(err.Error(), path+tt.want) {
				t.Errorf("Load = %v, want an error starting %q", err, path+tt.want)
			}
		})
	}

	// Parse and ParseTOML apply the same limits.
	big := []byte("LOGGING_AUDIT: True\n" + strings.Repeat("#", config.MaxSettingsSize))
	if _, err := config.Parse("big.yaml", big); err == nil || !strings.HasPrefix(err.Error(), "big.yaml: larger than") {
		t.Errorf("Parse of %d bytes = %v", len(big), err)
	}
	if _, err := config.ParseTOML("deep.toml", []byte("a = "+strings.Repeat("[", deep))); err == nil || !strings.HasPrefix(err.Error(), "deep.toml:1: nested deeper") {
		t.Errorf("ParseTOML of a deep document = %v", err)
	}
}

// TestLoadReadsAtMostTheLimit checks that Load reads no more of a file than
// MaxSettingsSize and one byte, so that a huge file costs nothing.
func TestLoadReadsAtMostTheLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "settings.yaml")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(64 << 20); err != nil { // sparse: takes no disk
		t.Fatal(err)
	}
	f.Close()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err = config.Load(path)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.HasPrefix(err.Error(), path+": larger than") {
		t.Errorf("Load of a 64 MiB file = %v", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("Load of a 64 MiB file allocated %d MiB", alloc>>20)
	}
}

// TestNestingWithinLimits checks that what looks like nesting but is not
// (brackets, braces and dots in strings and comments, floats, multi-line
// strings) does not count, and that a Psono settings.toml at its deepest
// loads.
func TestNestingWithinLimits(t *testing.T) {
	many := strings.Repeat("[{.", 3*config.MaxSettingsDepth)
	tests := []struct{ name, text string }{
		{"basic string", "a = \"" + many + "\"\n"},
		{"escaped quote", `a = "\"` + many + `\""` + "\n"},
		{"literal string", "a = '" + many + "'\n"},
		{"multi-line basic", "a = \"\"\"\n" + many + "\n\\\"\"\"\n" + many + "\"\"\"\n"},
		{"multi-line literal ending in quotes", "a = '''\n" + many + "'''''\n"},
		{"comment", "# " + many + "\na = 1 # " + many + "\n"},
		{"quoted keys", `"` + many + `" = 1` + "\n[\"x" + many + "\"]\nb = 1\n"},
		{"floats", "a = [" + strings.Repeat("1.5, ", 1000) + "2.5]\nb = {c = 0.1, d = 0.2}\n"},
		{"arrays side by side", "a = [" + strings.Repeat("[[1], [2]], ", 1000) + "]\n"},
		{"tables side by side", "[a.b.c]\nd = {e = [1]}\n[[f.g]]\nh = 1\n[[f.g]]\nh = 2\n[i]\nj = 1\n"},
		{"Psono settings", `SECRET_KEY = 'x'
ALLOWED_HOSTS = ['*']
LOGGING_AUDIT = true
LOGGING_AUDIT_WHITELIST = ['READ_INFO_SUCCESS', 'LOGIN_*']
TEMPLATES = [{BACKEND = 'django.template.backends.django.DjangoTemplates', DIRS = ['/root/psono/templates'], APP_DIRS = true, OPTIONS = {context_processors = ['django.template.context_processors.debug']}}]
DEFAULT_THROTTLE_RATES = {user = '28800/day', login = '48/day'}

[DATABASES.default]
ENGINE = 'django.db.backends.postgresql'
OPTIONS = {sslmode = 'require'}

[SAML_CONFIGURATIONS.1.idp.singleSignOnService]
url = "https://idp.example.com/sso"
binding = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"

[[OIDC_CONFIGURATIONS.1.scopes]]
name = "openid"
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := config.ParseTOML("settings.toml", []byte(tt.text)); err != nil {
				t.Errorf("ParseTOML: %v", err)
			}
		})
	}
	// The deepest nesting allowed, in each form.
	d := config.MaxSettingsDepth
	for _, text := range []string{
		"a = " + strings.Repeat("{a=", d-1) + "1" + strings.Repeat("}", d-1) + "\n",
		"a = " + strings.Repeat("[", d-1) + "1" + strings.Repeat("]", d-1) + "\n",
		"a" + strings.Repeat(".a", d-1) + " = 1\n",
		"[a" + strings.Repeat(".a", d-2) + "]\nb = 1\n",
	} {
		if _, err := config.ParseTOML("settings.toml", []byte(text)); err != nil {
			t.Errorf("ParseTOML(%q): %v", text, err)
		}
	}
}
