package deploycheck

import (
	"bufio"
	"bytes"
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/otelaudit/otelaudit/config"
)

// instruction is one Dockerfile instruction with its continuation lines
// joined.
type instruction struct {
	Line  int      // line of the instruction's first line
	Cmd   string   // upper case: FROM, COPY, RUN, ...
	Flags []string // leading --flag=value words (COPY, ADD, FROM)
	Args  []string // the remaining words
	Raw   string   // everything after the command word
}

// flag returns the value of --name=value, if present.
func (in instruction) flag(name string) (string, bool) {
	for _, f := range in.Flags {
		if v, ok := strings.CutPrefix(f, "--"+name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// dockerfileDoc is a parsed Dockerfile.
type dockerfileDoc struct {
	Instructions []instruction
}

// parseDockerfileText splits a Dockerfile into instructions. It knows
// comments, blank lines and backslash continuations; JSON-form arguments are
// kept as words of the raw text.
func parseDockerfileText(data []byte) dockerfileDoc {
	var doc dockerfileDoc
	sc := bufio.NewScanner(bytes.NewReader(data))
	var buf strings.Builder
	start, n := 0, 0
	flush := func() {
		text := strings.TrimSpace(buf.String())
		buf.Reset()
		if text == "" {
			return
		}
		cmd, rest, _ := strings.Cut(text, " ")
		in := instruction{Line: start, Cmd: strings.ToUpper(cmd), Raw: strings.TrimSpace(rest)}
		for _, w := range strings.Fields(rest) {
			if len(in.Args) == 0 && strings.HasPrefix(w, "--") {
				in.Flags = append(in.Flags, w)
				continue
			}
			in.Args = append(in.Args, w)
		}
		doc.Instructions = append(doc.Instructions, in)
	}
	for sc.Scan() {
		n++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if buf.Len() == 0 {
			if trimmed == "" {
				continue
			}
			start = n
		}
		if cont, ok := strings.CutSuffix(strings.TrimRight(line, " \t"), `\`); ok {
			buf.WriteString(cont)
			buf.WriteByte(' ')
			continue
		}
		buf.WriteString(line)
		flush()
	}
	flush()
	return doc
}

func parseDockerfile(t *testing.T) dockerfileDoc {
	t.Helper()
	d := parseDockerfileText(readRepoFile(t, dockerfile))
	if len(d.Instructions) == 0 {
		t.Fatalf("%s: no instructions", dockerfile)
	}
	return d
}

// byCmd returns the instructions with the given command.
func (d dockerfileDoc) byCmd(cmd string) []instruction {
	var out []instruction
	for _, in := range d.Instructions {
		if in.Cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// copyDest returns the destination of the COPY from the build context whose
// only source is src, or "".
func (d dockerfileDoc) copyDest(src string) string {
	for _, in := range d.byCmd("COPY") {
		if _, ok := in.flag("from"); ok {
			continue
		}
		if len(in.Args) == 2 && path.Clean(in.Args[0]) == src {
			return in.Args[1]
		}
	}
	return ""
}

// loadDockerSettings parses the container's settings.yaml with the project's
// own settings parser.
func loadDockerSettings(t *testing.T) config.Settings {
	t.Helper()
	s, err := config.Parse(dockerSettingsFile, readRepoFile(t, dockerSettingsFile))
	if err != nil {
		t.Fatalf("parsing %s: %v", dockerSettingsFile, err)
	}
	return s
}

// ignored reports whether a .dockerignore pattern list excludes rel (a
// slash-separated path relative to the build context). It handles plain
// paths, * and ? wildcards, a leading **/ and ! exceptions, which is what
// Docker's matcher does for the patterns this repository uses.
func ignored(patterns []string, rel string) bool {
	out := false
	for _, p := range patterns {
		neg := strings.HasPrefix(p, "!")
		p = path.Clean(strings.TrimPrefix(strings.TrimPrefix(p, "!"), "/"))
		if matchIgnore(p, rel) {
			out = !neg
		}
	}
	return out
}

// matchIgnore reports whether pattern matches rel or one of its parent
// folders.
func matchIgnore(pattern, rel string) bool {
	parts := strings.Split(rel, "/")
	for i := 1; i <= len(parts); i++ {
		prefix := strings.Join(parts[:i], "/")
		if ok, _ := path.Match(pattern, prefix); ok {
			return true
		}
		if sub, ok := strings.CutPrefix(pattern, "**/"); ok {
			for j := 0; j < i; j++ {
				if ok, _ := path.Match(sub, strings.Join(parts[j:i], "/")); ok {
					return true
				}
			}
		}
	}
	return false
}

func readDockerignore(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(repoPath(t, dockerignoreFile))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	return out
}

func TestParseDockerfileText(t *testing.T) {
	d := parseDockerfileText([]byte("# c\nFROM a:1 AS b\n\nRUN x \\\n  && y\nCOPY --from=b --chown=1:1 /s /d\n"))
	if len(d.Instructions) != 3 {
		t.Fatalf("got %d instructions, want 3: %+v", len(d.Instructions), d.Instructions)
	}
	if in := d.Instructions[1]; in.Cmd != "RUN" || in.Line != 4 || !strings.Contains(in.Raw, "&& y") {
		t.Errorf("continuation not joined: %+v", in)
	}
	if v, _ := d.Instructions[2].flag("from"); v != "b" || len(d.Instructions[2].Args) != 2 {
		t.Errorf("COPY flags/args wrong: %+v", d.Instructions[2])
	}
}

func TestIgnored(t *testing.T) {
	patterns := []string{".git", "**/*.log", "examples/grafana", "docs/*.md", "!docs/keep.md"}
	tests := []struct {
		rel  string
		want bool
	}{
		{".git/config", true},
		{"a/b/c.log", true},
		{"examples/grafana/README.md", true},
		{"examples/server/settings.docker.yaml", false},
		{"docs/x.md", true},
		{"docs/keep.md", false},
		{"go.mod", false},
	}
	for _, tc := range tests {
		if got := ignored(patterns, tc.rel); got != tc.want {
			t.Errorf("ignored(%q) = %v, want %v", tc.rel, got, tc.want)
		}
	}
}

// goDirective returns the go version line of go.mod ("1.26.0").
func goDirective(t *testing.T) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^go\s+(\S+)`).FindSubmatch(readRepoFile(t, "go.mod"))
	if m == nil {
		t.Fatal("go.mod has no go directive")
	}
	return string(m[1])
}

func TestDockerfileBaseImages(t *testing.T) {
	d := parseDockerfile(t)
	froms := d.byCmd("FROM")
	if len(froms) < 2 {
		t.Fatalf("want a multi-stage build (build and runtime stages), got %d FROM", len(froms))
	}
	// The build stage's Go matches go.mod's go directive (major.minor).
	goVer := goDirective(t)
	mm := strings.Join(strings.SplitN(goVer, ".", 3)[:2], ".")
	build := froms[0].Args[0]
	if !strings.HasPrefix(build, "golang:"+mm) {
		t.Errorf("build stage image %q; go.mod needs Go %s, want golang:%s...", build, goVer, mm)
	}
	for _, f := range froms {
		img := f.Args[0]
		if strings.Contains(img, "@sha256:") {
			continue
		}
		_, tag, ok := strings.Cut(img, ":")
		if !ok || tag == "" || tag == "latest" || strings.Contains(tag, "/") {
			t.Errorf("line %d: image %q has no fixed tag", f.Line, img)
		}
	}
	runtime := froms[len(froms)-1].Args[0]
	if strings.HasPrefix(runtime, "golang:") {
		t.Errorf("runtime stage uses %q: ship the binary on a small base, not the Go toolchain", runtime)
	}
}

func TestDockerfileCopySources(t *testing.T) {
	d := parseDockerfile(t)
	patterns := readDockerignore(t)
	copies := 0
	for _, in := range d.byCmd("COPY") {
		if _, ok := in.flag("from"); ok {
			continue
		}
		if len(in.Args) < 2 {
			t.Errorf("line %d: COPY needs sources and a destination", in.Line)
			continue
		}
		for _, src := range in.Args[:len(in.Args)-1] {
			copies++
			src = path.Clean(src)
			if src == "." {
				continue
			}
			if _, err := os.Stat(repoPath(t, src)); err != nil {
				t.Errorf("line %d: COPY source %s: %v", in.Line, src, err)
			}
			if ignored(patterns, src) {
				t.Errorf("line %d: COPY source %s is excluded by %s", in.Line, src, dockerignoreFile)
			}
		}
	}
	if copies == 0 {
		t.Fatal("no COPY from the build context")
	}
	// Files the build needs reach the context.
	for _, need := range []string{"go.mod", "go.sum", "examples/server", dockerSettingsFile} {
		if ignored(patterns, need) {
			t.Errorf("%s excludes %s, which the image build needs", dockerignoreFile, need)
		}
	}
}

// goBuildPackage matches the package argument of a go build command.
var goBuildPackage = regexp.MustCompile(`go build\b[^&;|]*?\s(\./[A-Za-z0-9_./-]+)`)

func TestDockerfileBuildsServer(t *testing.T) {
	d := parseDockerfile(t)
	var pkg string
	for _, in := range d.byCmd("RUN") {
		if m := goBuildPackage.FindStringSubmatch(in.Raw); m != nil {
			pkg = m[1]
		}
	}
	if pkg == "" {
		t.Fatal("no RUN go build ./<package>")
	}
	if path.Clean(pkg) != "examples/server" {
		t.Errorf("the image builds %s, want ./examples/server", pkg)
	}
	dir := repoPath(t, pkg)
	matches, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	mains := 0
	for _, f := range matches {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.PackageClauseOnly)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if file.Name.Name == "main" {
			mains++
		}
	}
	if mains == 0 {
		t.Errorf("%s holds no package main source; the image build would fail", pkg)
	}
}

func TestDockerfileRuntime(t *testing.T) {
	d := parseDockerfile(t)
	s := loadDockerSettings(t)
	users := d.byCmd("USER")
	if len(users) == 0 {
		t.Fatal("no USER: the server would run as root")
	}
	user := users[len(users)-1].Args[0]
	uid, _, _ := strings.Cut(user, ":")
	if uid == "0" || uid == "root" {
		t.Errorf("USER %s runs the server as root", user)
	}
	// The audit folder in the image belongs to the runtime user, so that a
	// fresh named volume mounted there is writable by it.
	owned := false
	for _, in := range d.byCmd("COPY") {
		chown, ok := in.flag("chown")
		if !ok || len(in.Args) < 2 {
			continue
		}
		cu, _, _ := strings.Cut(chown, ":")
		if path.Clean(in.Args[len(in.Args)-1]) == path.Clean(s.Folder) && cu == uid {
			owned = true
		}
	}
	if !owned {
		t.Errorf("no COPY --chown=%s:... creates the audit folder %s", uid, s.Folder)
	}
	if d.copyDest(dockerSettingsFile) == "" {
		t.Errorf("the image does not contain %s", dockerSettingsFile)
	}
	if len(d.byCmd("ENTRYPOINT")) == 0 {
		t.Error("no ENTRYPOINT")
	}
}

func TestDockerSettings(t *testing.T) {
	s := loadDockerSettings(t)
	tests := []struct {
		name      string
		got, want any
	}{
		{"LOGGING_AUDIT", s.Enabled, true},
		{"LOGGING_AUDIT_FOLDER", s.Folder, "/var/log/psono"},
		{"LOGGING_AUDIT_TIME", s.Time, config.TimeUTC},
		{"NUM_PROXIES", s.NumProxies, 0},
		{"TRUSTED_IP_HEADER", s.TrustedIPHeader, ""},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: %s = %v, want %v", dockerSettingsFile, tc.name, tc.got, tc.want)
		}
	}
}
