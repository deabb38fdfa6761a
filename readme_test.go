package otelaudit_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// readmeSnippet is a Go block of README.md with what it needs around it to
// compile: the package, imports and the names it takes as given (a server,
// the auditor, a handler...). Each is compiled in the module that holds its
// imports, through an overlay: nothing is written to the work tree.
type readmeSnippet struct {
	line int
	code string
}

// readmeGo returns the ```go blocks of README.md.
func readmeGo(t *testing.T) []readmeSnippet {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []readmeSnippet
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] != "```go" {
			continue
		}
		start := i + 1
		for i++; i < len(lines) && lines[i] != "```"; i++ {
		}
		out = append(out, readmeSnippet{line: start, code: strings.Join(lines[start:i], "\n")})
	}
	return out
}

// The names the fragments take as given.
const readmePrelude = `
var (
	srv     = &http.Server{}
	auditor *otelaudit.Auditor
	ctx     = context.Background()
	adminID = "ba504938-9a23-4162-867f-6840c301bc20"
)

func readDatastore(w http.ResponseWriter, r *http.Request) {}
func authenticate(h http.Handler) http.Handler              { return h }
func authenticatedUser(*http.Request) struct{ Name, ID string } {
	return struct{ Name, ID string }{"demo2@example.com", adminID}
}
`

// TestREADMECompiles: every Go snippet of README.md compiles, against the
// code as it is.
func TestREADMECompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the snippets with the go command")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	imports := map[string]string{
		"otelaudit.": "github.com/otelaudit/otelaudit", "config.": "github.com/otelaudit/otelaudit/config",
		"instrument.": "github.com/otelaudit/otelaudit/instrument", "log.": "log", "http.": "net/http",
		"signal.": "os/signal", "os.": "os", "syscall.": "syscall", "time.": "time", "context.": "context",
	}
	// A router's package is imported when its adapter is used (a local
	// variable may be called mux).
	grpcPrelude := `
var (
	authUnary  grpc.UnaryServerInterceptor
	authStream grpc.StreamServerInterceptor
)
`
	routers := map[string][2]string{
		"otelauditchi.":     {"chi.", "github.com/go-chi/chi/v5"},
		"otelauditgorilla.": {"mux.", "github.com/gorilla/mux"},
		"otelauditgin.":     {"gin.", "github.com/gin-gonic/gin"},
		"otelauditecho.":    {"echo.", "github.com/labstack/echo/v4"},
	}
	snippets := readmeGo(t)
	if len(snippets) < 5 {
		t.Fatalf("README.md has %d Go snippets; the extraction is broken", len(snippets))
	}
	for _, sn := range snippets {
		code := sn.code
		body := "func main() {}\n\nfunc init() {\n_ = srv\n" + code + "\n}\n"
		if strings.Contains(code, "srv := ") { // declares a server of its own
			body = strings.TrimSuffix(body, "}\n") + "_ = srv\n}\n"
		}
		if strings.Contains(code, "err :=") {
			body = strings.TrimSuffix(body, "}\n") + "_ = err\n}\n"
		}
		if strings.HasPrefix(strings.TrimSpace(code), "func ") {
			body = code + "\n"
		}
		used := map[string]bool{"context": true, "net/http": true, "github.com/otelaudit/otelaudit": true}
		for sel, path := range imports {
			if strings.Contains(code, sel) {
				used[path] = true
			}
		}
		dir := root
		prelude := readmePrelude
		if strings.Contains(code, "otelauditgrpc.") {
			for _, path := range []string{"google.golang.org/grpc", "go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc",
				"github.com/otelaudit/otelaudit/instrument/otelauditgrpc"} {
				used[path] = true
			}
			dir = filepath.Join(root, "examples", "grpc")
			prelude += grpcPrelude
		}
		for adapter, router := range routers {
			if strings.Contains(code, adapter) {
				used["github.com/otelaudit/otelaudit/instrument/"+strings.TrimSuffix(adapter, ".")] = true
				used[router[1]] = true
				dir = filepath.Join(root, "examples", "routers")
			}
		}
		src := "package main\n\nimport (\n"
		for path := range used {
			src += "\t" + `"` + path + `"` + "\n"
		}
		src += ")\n" + prelude + body
		pkg := filepath.Join(dir, "internal", "readmesnippet")
		file := filepath.Join(t.TempDir(), "snippet.go")
		if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		overlay, _ := json.Marshal(map[string]any{"Replace": map[string]string{filepath.Join(pkg, "snippet.go"): file}})
		ov := filepath.Join(t.TempDir(), "overlay.json")
		if err := os.WriteFile(ov, overlay, 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(goCmd, "build", "-o", os.DevNull, "-overlay", ov, "./internal/readmesnippet")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("README.md:%d: the snippet does not compile: %v\n%s\n--- as compiled:\n%s", sn.line, err, out, src)
		}
	}
}
