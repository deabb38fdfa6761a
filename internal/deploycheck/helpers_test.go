// Package deploycheck tests the deployment files of the repository without
// running them: docker-compose.yml, the demo server's Dockerfile and settings,
// the collector configuration the compose stack mounts, the Loki
// configuration, and Grafana's provisioning and dashboard.
//
// The machine that runs these tests needs no Docker engine. The one test that
// calls Docker's own validator (docker-compose config) is skipped, with a
// message, when neither docker-compose nor the docker compose plugin is
// installed.
package deploycheck

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"
)

// Files this package checks, relative to the repository root.
const (
	composeFile          = "docker-compose.yml"
	dockerfile           = "examples/server/Dockerfile"
	dockerignoreFile     = ".dockerignore"
	dockerSettingsFile   = "examples/server/settings.docker.yaml"
	collectorConfigFile  = "examples/collector/compose.yaml"
	lokiConfigFile       = "examples/loki/loki.yaml"
	datasourceFile       = "examples/grafana/provisioning/datasources/loki.yaml"
	dashboardsProvFile   = "examples/grafana/provisioning/dashboards/dashboards.yaml"
	dashboardFile        = "examples/grafana/dashboards/audit-trail.json"
	demoServiceName      = "otelaudit-demo"
	collectorServiceName = "collector"
)

var (
	rootOnce sync.Once
	rootDir  string
	rootErr  error
)

// repoRoot returns the repository root: the nearest folder above the test's
// working directory that holds go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	rootOnce.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			rootErr = err
			return
		}
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				rootDir = dir
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				rootErr = os.ErrNotExist
				return
			}
			dir = parent
		}
	})
	if rootErr != nil {
		t.Fatalf("finding the repository root (a folder with go.mod): %v", rootErr)
	}
	return rootDir
}

// repoPath turns a slash-separated path relative to the repository root into
// a path on disk.
func repoPath(t *testing.T, rel string) string {
	t.Helper()
	return filepath.Join(repoRoot(t), filepath.FromSlash(rel))
}

// readRepoFile returns the contents of a repository file or fails the test.
func readRepoFile(t *testing.T, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(repoPath(t, rel))
	if err != nil {
		t.Fatalf("reading %s: %v", rel, err)
	}
	return data
}

// loadYAML decodes a repository YAML file into v. Unknown keys are accepted:
// the structs name only what the tests look at.
func loadYAML(t *testing.T, rel string, v any) {
	t.Helper()
	if err := yaml.Unmarshal(readRepoFile(t, rel), v); err != nil {
		t.Fatalf("parsing %s: %v", rel, err)
	}
}

// loadJSON decodes a repository JSON file into v, rejecting trailing data.
func loadJSON(t *testing.T, rel string, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(readRepoFile(t, rel)))
	if err := dec.Decode(v); err != nil {
		t.Fatalf("parsing %s: %v", rel, err)
	}
	if dec.More() {
		t.Fatalf("parsing %s: data after the JSON document", rel)
	}
}

// auditAttributes are the OpenTelemetry log attributes of an audit record
// (the project's fixed mapping of a Psono audit line).
var auditAttributes = []string{
	"audit.logger",
	"client.address",
	"http.request.method",
	"url.path",
	"audit.success",
	"host.name",
	"http.response.status_code",
	"user.name",
	"user.id",
	"http.route",
}

// lokiName is the name Loki's OTLP ingestion gives an attribute: dots (and
// any other character not allowed in a label name) become underscores.
func lokiName(attr string) string {
	var b strings.Builder
	for i, r := range attr {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
			b.WriteRune(r)
		case r >= '0' && r <= '9' && i > 0:
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// knownLokiNames are the label and structured-metadata names an audit record
// has in Loki: the index label service_name, the structured metadata of the
// audit attributes, event_name (the collector's copy of the OTLP EventName),
// and the record fields Loki itself stores as structured metadata.
func knownLokiNames() map[string]bool {
	names := map[string]bool{
		"service_name":    true,
		"event_name":      true,
		"severity_text":   true,
		"severity_number": true,
		"detected_level":  true,
		"trace_id":        true,
		"span_id":         true,
	}
	for _, a := range auditAttributes {
		names[lokiName(a)] = true
	}
	return names
}

func TestLokiName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"client.address", "client_address"},
		{"http.response.status_code", "http_response_status_code"},
		{"audit.success", "audit_success"},
		{"event.name", "event_name"},
		{"service.name", "service_name"},
		{"a-b c", "a_b_c"},
		{"9lives", "_lives"},
	}
	for _, tc := range tests {
		if got := lokiName(tc.in); got != tc.want {
			t.Errorf("lokiName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
