package main

import (
	"bytes"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMainIsREADMEs: main is README.md's wiring, word for word (after
// gofmt), so the example a user copies is the one the README shows, and
// both build.
func TestMainIsREADMEs(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(readme, []byte("```go\nfunc main() {"))
	if i < 0 {
		t.Fatal("README.md has no ```go block with func main")
	}
	block := readme[i+len("```go\n"):]
	block = block[:bytes.Index(block, []byte("\n```\n"))+1]
	want, err := format.Source(append([]byte("package main\n\n"), block...))
	if err != nil {
		t.Fatalf("README's main does not parse: %v", err)
	}

	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "main.go", src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Name.Name == "main" {
			got = src[fset.Position(fn.Pos()).Offset:fset.Position(fn.End()).Offset]
		}
	}
	got, err = format.Source(append([]byte("package main\n\n"), got...))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("examples/wiring's main differs from README.md's:\n--- main.go\n%s\n--- README.md\n%s", got, want)
	}
	if !strings.Contains(string(src), "auditor.Shutdown(actx)") {
		t.Error("the wiring lost the auditor's shutdown")
	}
}
