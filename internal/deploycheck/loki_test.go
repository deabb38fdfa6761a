package deploycheck

import (
	"path"
	"strings"
	"testing"
	"time"
)

// lokiConfig is the part of Loki's configuration the tests read.
type lokiConfig struct {
	AuthEnabled *bool `yaml:"auth_enabled"`
	Server      struct {
		HTTPListenPort int `yaml:"http_listen_port"`
	} `yaml:"server"`
	Common struct {
		PathPrefix string `yaml:"path_prefix"`
		Storage    struct {
			Filesystem struct {
				ChunksDirectory string `yaml:"chunks_directory"`
				RulesDirectory  string `yaml:"rules_directory"`
			} `yaml:"filesystem"`
		} `yaml:"storage"`
	} `yaml:"common"`
	SchemaConfig struct {
		Configs []struct {
			From        string `yaml:"from"`
			Store       string `yaml:"store"`
			ObjectStore string `yaml:"object_store"`
			Schema      string `yaml:"schema"`
			Index       struct {
				Period string `yaml:"period"`
			} `yaml:"index"`
		} `yaml:"configs"`
	} `yaml:"schema_config"`
	LimitsConfig struct {
		AllowStructuredMetadata *bool  `yaml:"allow_structured_metadata"`
		RetentionPeriod         string `yaml:"retention_period"`
	} `yaml:"limits_config"`
	Compactor struct {
		WorkingDirectory   string `yaml:"working_directory"`
		RetentionEnabled   bool   `yaml:"retention_enabled"`
		DeleteRequestStore string `yaml:"delete_request_store"`
	} `yaml:"compactor"`
}

func loadLokiConfig(t *testing.T) lokiConfig {
	t.Helper()
	var c lokiConfig
	loadYAML(t, lokiConfigFile, &c)
	return c
}

// parseLokiDuration reads durations the way Loki's configuration writes
// them: Go durations plus d (day), w (week) and y (year) units.
func parseLokiDuration(s string) (time.Duration, error) {
	for unit, hours := range map[string]int{"d": 24, "w": 24 * 7, "y": 24 * 365} {
		if n, ok := strings.CutSuffix(s, unit); ok && n != "" && !strings.ContainsAny(n, "hmsuµn") {
			d, err := time.ParseDuration(n + "h")
			if err != nil {
				return 0, err
			}
			return d * time.Duration(hours), nil
		}
	}
	return time.ParseDuration(s)
}

func TestParseLokiDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"2160h", 2160 * time.Hour},
		{"90d", 90 * 24 * time.Hour},
		{"2w", 14 * 24 * time.Hour},
		{"30m", 30 * time.Minute},
	}
	for _, tc := range tests {
		got, err := parseLokiDuration(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("parseLokiDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	if _, err := parseLokiDuration("soon"); err == nil {
		t.Error(`parseLokiDuration("soon") succeeded`)
	}
}

func TestLokiConfig(t *testing.T) {
	c := loadLokiConfig(t)
	p := loadCompose(t)
	if len(c.SchemaConfig.Configs) == 0 {
		t.Fatal("no schema_config.configs")
	}
	latest := c.SchemaConfig.Configs[len(c.SchemaConfig.Configs)-1]
	retention, err := parseLokiDuration(c.LimitsConfig.RetentionPeriod)
	if err != nil {
		t.Errorf("limits_config.retention_period %q: %v", c.LimitsConfig.RetentionPeriod, err)
	}
	tests := []struct {
		name string
		ok   bool
		hint string
	}{
		{"OTLP ingestion stores attributes as structured metadata",
			c.LimitsConfig.AllowStructuredMetadata == nil || *c.LimitsConfig.AllowStructuredMetadata,
			"limits_config.allow_structured_metadata must not be false"},
		{"the newest schema supports structured metadata",
			latest.Schema == "v13" && latest.Store == "tsdb",
			"want schema v13 on the tsdb store, got " + latest.Schema + " on " + latest.Store},
		{"single binary on local disk", latest.ObjectStore == "filesystem", "object_store " + latest.ObjectStore},
		{"no tenant header needed", c.AuthEnabled != nil && !*c.AuthEnabled,
			"auth_enabled: false, or the collector and Grafana would need X-Scope-OrgID"},
		{"retention on", c.Compactor.RetentionEnabled, "compactor.retention_enabled"},
		{"delete requests have a store", c.Compactor.DeleteRequestStore != "",
			"Loki 3 refuses retention_enabled without compactor.delete_request_store"},
		{"retention uses a 24h index period", latest.Index.Period == "24h", "index period " + latest.Index.Period},
		{"retention keeps at least a day", retention >= 24*time.Hour, "retention_period " + c.LimitsConfig.RetentionPeriod},
	}
	for _, tc := range tests {
		if !tc.ok {
			t.Errorf("%s: %s", tc.name, tc.hint)
		}
	}

	// Loki's data lives on the volume mounted at path_prefix, and the config
	// the container reads is this file.
	svc := p.Services["loki"]
	data, ok := mountAt(t, "loki", svc, c.Common.PathPrefix)
	if !ok || data.Bind {
		t.Errorf("Loki's path_prefix %q is not a named volume of the loki service", c.Common.PathPrefix)
	}
	for _, dir := range []string{c.Common.Storage.Filesystem.ChunksDirectory, c.Common.Storage.Filesystem.RulesDirectory, c.Compactor.WorkingDirectory} {
		if dir == "" {
			continue
		}
		if rel := path.Clean(dir); !strings.HasPrefix(rel, path.Clean(c.Common.PathPrefix)+"/") {
			t.Errorf("%s is outside path_prefix %s: it would not persist", dir, c.Common.PathPrefix)
		}
	}
	var configPath string
	for _, arg := range svc.Command {
		if v, ok := strings.CutPrefix(arg, "-config.file="); ok {
			configPath = v
		}
	}
	m, ok := mountAt(t, "loki", svc, configPath)
	if configPath == "" || !ok || bindSource(m) != lokiConfigFile {
		t.Errorf("loki service does not run with -config.file pointing at a mount of %s (command %q)", lokiConfigFile, svc.Command)
	}
	published := false
	for _, pp := range ports(t, "loki", svc) {
		if pp.Target == c.Server.HTTPListenPort {
			published = true
		}
	}
	if !published {
		t.Errorf("loki does not publish its http_listen_port %d", c.Server.HTTPListenPort)
	}
}
