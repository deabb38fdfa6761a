// Package collectortest builds and runs the example OpenTelemetry Collector of
// examples/collector (otelaudit-collector) for tests, and reads what its file
// exporter wrote.
//
// [Binary] builds the collector from examples/collector/manifest.yaml with the
// collector builder and caches the binary (see internal/testcache), keyed by
// a hash of the manifest: the first build takes minutes, later ones are
// instant. [Start] runs the binary with a configuration on free loopback
// ports and waits until it is ready; the returned [Collector] can be stopped
// and restarted on the same ports. [ReadLogs] and [WaitForLogs] decode the
// OTLP/JSON lines of the file exporter into [LogRecord] values.
package collectortest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"testing"
	"time"

	"github.com/otelaudit/otelaudit/internal/testcache"
)

// modulePath is the module whose root holds examples/collector.
const modulePath = "github.com/otelaudit/otelaudit"

// BinaryName is the file name of the built collector.
const BinaryName = "otelaudit-collector"

var (
	builderRE    = regexp.MustCompile(`(?m)^#\s*builder:\s*(go\.opentelemetry\.io/collector/cmd/builder@v\S+)\s*$`)
	outputPathRE = regexp.MustCompile(`(?m)^\s+output_path:\s*(\S+)\s*$`)
)

// ModuleRoot returns the root directory of the otelaudit module, found by
// walking up from the working directory (a test's working directory is its
// package directory).
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("collectortest: %w", err)
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(bytes.TrimSpace(data), []byte("module "+modulePath+"\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("collectortest: no go.mod of %s above the working directory", modulePath)
		}
		dir = parent
	}
}

// ExampleDir returns the absolute path of examples/collector.
func ExampleDir() (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "examples", "collector"), nil
}

// ManifestPath returns the absolute path of examples/collector/manifest.yaml.
func ManifestPath() (string, error) {
	dir, err := ExampleDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "manifest.yaml"), nil
}

// BuildBinary returns the path of the collector built from the manifest,
// building it first when the cache has no binary for this manifest. The
// cache key is a hash of the manifest and the target platform. logf, when
// not nil, receives progress messages; out, when not nil, receives the
// output of the builder and of go build as they run.
func BuildBinary(ctx context.Context, logf func(string, ...any), out io.Writer) (string, error) {
	path, err := ManifestPath()
	if err != nil {
		return "", err
	}
	manifest, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("collectortest: read manifest: %w", err)
	}
	m := builderRE.FindSubmatch(manifest)
	if m == nil {
		return "", errors.New("collectortest: manifest has no \"# builder: go.opentelemetry.io/collector/cmd/builder@<version>\" line")
	}
	builder := string(m[1])
	outputDir := "_build"
	if m := outputPathRE.FindSubmatch(manifest); m != nil {
		outputDir = string(m[1])
	}

	sum := sha256.New()
	sum.Write(manifest)
	fmt.Fprintf(sum, "\n%s/%s\n", runtime.GOOS, runtime.GOARCH)
	key := hex.EncodeToString(sum.Sum(nil))[:16]

	entry := "collector-" + key
	return testcache.Ensure(ctx, entry, BinaryName, logf, func(ctx context.Context, work string) (string, error) {
		if logf != nil {
			logf("collectortest: building %s with %s in %s (a cold build takes ten minutes or more on two cores)", BinaryName, builder, work)
		}
		if err := os.WriteFile(filepath.Join(work, "manifest.yaml"), manifest, 0o644); err != nil {
			return "", err
		}
		// The builder ends with "go mod tidy", which fails on this proxy
		// because a test-only dependency of fileexporter is missing; the
		// sources it generated before that are all we need.
		genErr := testcache.RunGo(ctx, work, nil, out, "run", builder, "--config", "manifest.yaml", "--skip-compilation")
		src := filepath.Join(work, outputDir)
		for _, f := range []string{"go.mod", "components.go", "main.go"} {
			if _, err := os.Stat(filepath.Join(src, f)); err != nil {
				return "", fmt.Errorf("builder generated no %s: %w", f, errors.Join(err, genErr))
			}
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		bin := filepath.Join(work, BinaryName)
		if runtime.GOOS == "windows" {
			bin += ".exe"
		}
		err := testcache.RunGo(ctx, src, []string{"CGO_ENABLED=0"}, out,
			"build", "-mod=mod", "-trimpath", "-ldflags=-s -w", "-o", bin, ".")
		if err != nil {
			if genErr != nil {
				err = fmt.Errorf("%w\n(the builder had failed too: %v)", err, genErr)
			}
			return "", err
		}
		return bin, nil
	})
}

// Binary returns the path of the cached collector binary, building it on
// first use (see [BuildBinary]); it fails t when the build fails. The build
// is cancelled shortly before the test binary's deadline: a cold build needs
// more than go test's default ten minutes, so run .ci/prepare-collector first
// or pass a larger -timeout.
func Binary(t testing.TB) string {
	t.Helper()
	ctx, cancel := buildContext(t)
	defer cancel()
	bin, err := BuildBinary(ctx, func(format string, args ...any) {
		t.Logf(format, args...)
		// Also tell someone watching a quiet go test why it hangs.
		fmt.Fprintf(os.Stderr, format+"\n", args...)
	}, nil)
	if err != nil {
		t.Fatalf("build collector: %v", err)
	}
	return bin
}

// buildContext returns a context that ends at test cleanup or 30 seconds
// before the test binary's deadline, whichever comes first.
func buildContext(t testing.TB) (context.Context, context.CancelFunc) {
	ctx := t.Context()
	if d, ok := deadline(t); ok {
		return context.WithDeadline(ctx, d.Add(-30*time.Second))
	}
	return context.WithCancel(ctx)
}

func deadline(t testing.TB) (time.Time, bool) {
	if dt, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		return dt.Deadline()
	}
	return time.Time{}, false
}
