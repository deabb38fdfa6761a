package deploycheck

import (
	"net"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// collectorConfig is the part of an OpenTelemetry Collector configuration
// the tests read.
type collectorConfig struct {
	Receivers  map[string]any `yaml:"receivers"`
	Processors map[string]any `yaml:"processors"`
	Exporters  map[string]any `yaml:"exporters"`
	Extensions map[string]any `yaml:"extensions"`
	Connectors map[string]any `yaml:"connectors"`
	Service    struct {
		Extensions []string `yaml:"extensions"`
		Pipelines  map[string]struct {
			Receivers  []string `yaml:"receivers"`
			Processors []string `yaml:"processors"`
			Exporters  []string `yaml:"exporters"`
		} `yaml:"pipelines"`
	} `yaml:"service"`
}

func loadCollectorConfig(t *testing.T) collectorConfig {
	t.Helper()
	var c collectorConfig
	loadYAML(t, collectorConfigFile, &c)
	return c
}

// componentType is the type part of a component id: "transform" of
// "transform/event_name".
func componentType(id string) string {
	typ, _, _ := strings.Cut(id, "/")
	return typ
}

// section returns the configuration map of a component, or nil.
func section(all map[string]any, id string) map[string]any {
	m, _ := all[id].(map[string]any)
	return m
}

// otlpHTTPPort returns the port of the otlp receiver's HTTP protocol.
func (c collectorConfig) otlpHTTPPort(t *testing.T) int {
	t.Helper()
	otlp := section(c.Receivers, "otlp")
	protocols, _ := otlp["protocols"].(map[string]any)
	httpProto, _ := protocols["http"].(map[string]any)
	if httpProto == nil {
		t.Fatalf("%s: receiver otlp has no http protocol", collectorConfigFile)
	}
	endpoint, _ := httpProto["endpoint"].(string)
	if endpoint == "" {
		return 4318 // the receiver's default
	}
	_, port, err := net.SplitHostPort(endpoint)
	if err != nil {
		t.Fatalf("%s: otlp http endpoint %q: %v", collectorConfigFile, endpoint, err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatalf("%s: otlp http endpoint %q: %v", collectorConfigFile, endpoint, err)
	}
	return n
}

func TestCollectorPipelinesReferenceDefinedComponents(t *testing.T) {
	c := loadCollectorConfig(t)
	if len(c.Service.Pipelines) == 0 {
		t.Fatal("no pipelines")
	}
	used := map[string]bool{}
	names := make([]string, 0, len(c.Service.Pipelines))
	for name := range c.Service.Pipelines {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := c.Service.Pipelines[name]
		kinds := []struct {
			kind    string
			ids     []string
			defined map[string]any
		}{
			{"receiver", p.Receivers, c.Receivers},
			{"processor", p.Processors, c.Processors},
			{"exporter", p.Exporters, c.Exporters},
		}
		for _, k := range kinds {
			if len(k.ids) == 0 && k.kind != "processor" {
				t.Errorf("pipeline %s has no %ss", name, k.kind)
			}
			seen := map[string]bool{}
			for _, id := range k.ids {
				_, isDefined := k.defined[id]
				_, isConnector := c.Connectors[id]
				if !isDefined && !(isConnector && k.kind != "processor") {
					t.Errorf("pipeline %s uses %s %q, which is not defined", name, k.kind, id)
				}
				if seen[id] {
					t.Errorf("pipeline %s lists %s %q twice", name, k.kind, id)
				}
				seen[id] = true
				used[k.kind+" "+id] = true
			}
		}
	}
	for _, id := range c.Service.Extensions {
		if _, ok := c.Extensions[id]; !ok {
			t.Errorf("service uses extension %q, which is not defined", id)
		}
		used["extension "+id] = true
	}
	// Everything defined is used: an unused component is dead configuration
	// and usually a typo in a pipeline.
	for kind, defined := range map[string]map[string]any{
		"receiver": c.Receivers, "processor": c.Processors, "exporter": c.Exporters, "extension": c.Extensions,
	} {
		for id := range defined {
			if !used[kind+" "+id] {
				t.Errorf("%s %q is defined but not used", kind, id)
			}
		}
	}
}

func TestCollectorLogsPipeline(t *testing.T) {
	c := loadCollectorConfig(t)
	logs, ok := c.Service.Pipelines["logs"]
	if !ok {
		t.Fatal("no logs pipeline")
	}
	// Component types the contrib image ships (checked against its
	// documentation); a type outside this list needs checking by hand.
	known := map[string]bool{
		"otlp": true, "memory_limiter": true, "transform": true, "batch": true,
		"otlp_http": true, "otlphttp": true, "debug": true, "health_check": true,
	}
	all := slices.Concat(logs.Receivers, logs.Processors, logs.Exporters, c.Service.Extensions)
	for _, id := range all {
		if !known[componentType(id)] {
			t.Errorf("component %q: type %q is not one this test knows the contrib image ships", id, componentType(id))
		}
	}
	order := map[string]int{}
	for i, id := range logs.Processors {
		order[componentType(id)] = i + 1
	}
	tests := []struct {
		name string
		ok   bool
	}{
		{"receives OTLP", slices.Contains(logs.Receivers, "otlp")},
		{"copies the event name (a transform processor)", order["transform"] > 0},
		{"batches", order["batch"] > 0},
		{"memory_limiter comes first", order["memory_limiter"] == 1},
		{"batch comes after transform", order["batch"] > order["transform"]},
	}
	for _, tc := range tests {
		if !tc.ok {
			t.Errorf("logs pipeline: %s: no (processors %v)", tc.name, logs.Processors)
		}
	}
}

func TestCollectorCopiesEventName(t *testing.T) {
	c := loadCollectorConfig(t)
	var statements []string
	for id, v := range c.Processors {
		if componentType(id) != "transform" {
			continue
		}
		m, _ := v.(map[string]any)
		list, _ := m["log_statements"].([]any)
		for _, s := range list {
			switch s := s.(type) {
			case string:
				statements = append(statements, s)
			case map[string]any:
				inner, _ := s["statements"].([]any)
				for _, x := range inner {
					if str, ok := x.(string); ok {
						statements = append(statements, str)
					}
				}
			}
		}
	}
	found := false
	for _, s := range statements {
		compact := strings.Join(strings.Fields(s), "")
		if strings.HasPrefix(compact, `set(log.attributes["event.name"],log.event_name)`) {
			found = true
		}
	}
	if !found {
		t.Errorf(`no transform statement set(log.attributes["event.name"], log.event_name); statements: %q`, statements)
	}
	if got := lokiName("event.name"); got != "event_name" {
		t.Errorf("event.name reaches Loki as %q, the dashboard expects event_name", got)
	}
}

func TestCollectorExportsToLoki(t *testing.T) {
	c := loadCollectorConfig(t)
	p := loadCompose(t)
	loki := loadLokiConfig(t)
	logs := c.Service.Pipelines["logs"]
	var lokiExporters int
	for _, id := range logs.Exporters {
		typ := componentType(id)
		if typ != "otlp_http" && typ != "otlphttp" {
			continue
		}
		endpoint, _ := section(c.Exporters, id)["endpoint"].(string)
		u, err := url.Parse(endpoint)
		if err != nil || u.Host == "" {
			t.Errorf("exporter %s: endpoint %q is not a URL", id, endpoint)
			continue
		}
		if u.Hostname() != "loki" {
			continue
		}
		lokiExporters++
		if _, ok := p.Services[u.Hostname()]; !ok {
			t.Errorf("exporter %s sends to host %q, which is no compose service", id, u.Hostname())
		}
		if u.Port() != strconv.Itoa(loki.Server.HTTPListenPort) {
			t.Errorf("exporter %s sends to port %s, Loki listens on %d", id, u.Port(), loki.Server.HTTPListenPort)
		}
		if u.Path != "/otlp" {
			t.Errorf("exporter %s: path %q, want /otlp (the exporter appends /v1/logs)", id, u.Path)
		}
	}
	if lokiExporters != 1 {
		t.Errorf("logs pipeline has %d OTLP/HTTP exporters to loki, want 1", lokiExporters)
	}
}
