package otelaudit

import (
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/exporter"
	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/seal"
)

// probe is a do-nothing stage that notes what the pipeline asks of it.
type probe struct {
	mu       sync.Mutex
	events   []string
	reopened int
	shutdown int
}

func (p *probe) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (p *probe) OnEmit(_ context.Context, r *sdklog.Record) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, r.EventName())
	return nil
}
func (p *probe) ForceFlush(context.Context) error { return nil }
func (p *probe) Shutdown(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.shutdown++
	return nil
}
func (p *probe) Reopen() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reopened++
	return nil
}

// TestAddedStage: a stage added in a test, in this file alone, gets the
// records (the whitelist applies, the checkpoints pass), Reopen and
// Shutdown, with no edit to New, Reopen or Shutdown.
func TestAddedStage(t *testing.T) {
	keyPath, _, err := seal.WriteKeyFiles(t.TempDir(), "stage-test")
	if err != nil {
		t.Fatal(err)
	}
	s := config.Default()
	s.Enabled, s.Folder, s.SealKey = true, t.TempDir(), keyPath
	s.Whitelist = []string{"KEEP_*"}
	p := &probe{}
	stages := append(defaultStages(), stage{name: "probe", build: func(config.Settings, *env) (sdklog.Processor, error) { return p, nil }})
	a, err := New(s, func(o *options) { o.stages = stages }, WithHostName("h"))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/{e}/", func(w http.ResponseWriter, r *http.Request) { instrument.SetEvent(r.Context(), r.PathValue("e")) })
	srv := httptest.NewServer(a.Handler(mux))
	for _, e := range []string{"KEEP_A", "DROP_B", "KEEP_C"} {
		resp, err := http.Get(srv.URL + "/" + e + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	srv.Close()
	if err := a.Reopen(); err != nil {
		t.Fatal(err)
	}
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(p.events, " ")
	if !strings.Contains(got, "KEEP_A KEEP_C") || strings.Contains(got, "DROP_B") ||
		strings.Count(got, psono.CheckpointEvent) < 2 || p.reopened != 1 || p.shutdown < 1 {
		t.Fatalf("the added stage saw %q, reopened %d, shut down %d; want KEEP_A KEEP_C, the start and close checkpoints, 1, 1", got, p.reopened, p.shutdown)
	}
	if err := a.Record(context.Background(), instrument.Event{Event: "KEEP_LATE"}); !errors.Is(err, ErrShutdown) {
		t.Fatalf("Record after Shutdown: %v; want ErrShutdown", err)
	}
}

// TestOneProvider: the package makes one LoggerProvider (the Auditor's),
// and the checkpoint records go through it.
func TestOneProvider(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(token.NewFileSet(), f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(node ast.Node) bool {
			if sel, ok := node.(*ast.SelectorExpr); ok && sel.Sel.Name == "NewLoggerProvider" {
				n++
			}
			return true
		})
	}
	if n != 1 {
		t.Fatalf("%d calls of NewLoggerProvider in the package; want the Auditor's one", n)
	}
}

// TestNewValidates: hand-built settings meet the rules loaded ones do.
func TestNewValidates(t *testing.T) {
	s := config.Default()
	s.Enabled, s.Folder, s.Strict, s.Durability = true, t.TempDir(), true, exporter.Buffered
	if _, err := New(s); err == nil || !strings.Contains(err.Error(), "LOGGING_AUDIT_DURABILITY") && !strings.Contains(err.Error(), "STRICT") {
		t.Fatalf("New with strict mode and buffered durability: %v; want the settings refused", err)
	}
}
