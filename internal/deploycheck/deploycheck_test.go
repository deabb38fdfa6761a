// Package deploycheck tests the files of the docker-compose stack without
// running it: docker-compose.yml, the demo image's Dockerfile and settings,
// the collector configuration the stack mounts, Loki's configuration, and
// Grafana's provisioning and dashboard.
//
// The syntax and meaning of each file are left to the real validators:
// Compose's own "docker-compose config" (run here, and skipped with a message
// when neither docker-compose nor the docker compose plugin is installed)
// and "otelaudit-collector validate" of examples/collector/compose.yaml (run
// by TestConfigsValidate in examples/collector). The tests here check what
// no single validator can see: the facts that several files must agree on.
// A port that one service listens on is the port it publishes and the port
// others send to; a path a service reads is mounted from the file meant for
// it; the Dockerfile copies files that exist and reach the build context; and
// the dashboard's queries use the names an audit record has in Loki, derived
// from psono.Fields.
package deploycheck

import (
	"encoding/json"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"gopkg.in/yaml.v3"

	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/psono"
)

// The files of the stack, relative to the repository root.
const (
	composeFile      = "docker-compose.yml"
	dockerfile       = "examples/server/Dockerfile"
	dockerignore     = ".dockerignore"
	dockerSettings   = "examples/server/settings.docker.yaml"
	collectorConfig  = "examples/collector/compose.yaml"
	lokiConfig       = "examples/loki/loki.yaml"
	datasourceFile   = "examples/grafana/provisioning/datasources/loki.yaml"
	dashboardsFile   = "examples/grafana/provisioning/dashboards/dashboards.yaml"
	dashboardFile    = "examples/grafana/dashboards/audit-trail.json"
	eventNameAttr    = "event.name" // the collector's copy of the record's EventName
	grafanaHTTPPort  = "3000"       // Grafana's default; the stack does not change it
	repoRootFromHere = "../.."
)

// read returns a repository file; rel is relative to the repository root.
func read(t *testing.T, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRootFromHere, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// decode unmarshals a repository JSON or YAML file into v.
func decode(t *testing.T, rel string, v any) {
	t.Helper()
	var err error
	if strings.HasSuffix(rel, ".json") {
		err = json.Unmarshal(read(t, rel), v)
	} else {
		err = yaml.Unmarshal(read(t, rel), v)
	}
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
}

// service is the part of a docker-compose.yml service the tests read. The
// file writes ports and volumes in the short syntax.
type service struct {
	Build       struct{ Context, Dockerfile string }
	Command     []string
	Environment map[string]string
	Ports       []string
	Volumes     []string
}

func loadCompose(t *testing.T) map[string]service {
	t.Helper()
	var f struct{ Services map[string]service }
	decode(t, composeFile, &f)
	return f.Services
}

// flagValue returns the value of a command-line flag given as name=value or
// as name value.
func flagValue(args []string, name string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// hostPath returns where the container path p of svc comes from: for a bind
// mount the repository path (bind true), for a named volume its name.
func hostPath(svc service, p string) (src string, bind, ok bool) {
	best := ""
	for _, v := range svc.Volumes {
		from, to, _ := strings.Cut(v, ":")
		to, _, _ = strings.Cut(to, ":")
		rest, found := strings.CutPrefix(path.Clean(p), path.Clean(to))
		if !found || (rest != "" && rest[0] != '/') || len(to) <= len(best) {
			continue
		}
		best, bind, src = to, strings.HasPrefix(from, "."), from
		if bind {
			src = path.Join(from, rest)
		}
	}
	return src, bind, best != ""
}

// values calls fn with every value stored under key in a decoded JSON or
// YAML document, at any depth.
func values(doc any, key string, fn func(any)) {
	switch doc := doc.(type) {
	case map[string]any:
		for k, v := range doc {
			if k == key {
				fn(v)
			}
			values(v, key, fn)
		}
	case []any:
		for _, v := range doc {
			values(v, key, fn)
		}
	}
}

// TestComposeConfig runs Compose's own validator over docker-compose.yml.
// It needs no Docker engine.
func TestComposeConfig(t *testing.T) {
	var clis [][]string
	if p, err := exec.LookPath("docker-compose"); err == nil {
		clis = append(clis, []string{p})
	}
	if p, err := exec.LookPath("docker"); err == nil && exec.CommandContext(t.Context(), p, "compose", "version").Run() == nil {
		clis = append(clis, []string{p, "compose"})
	}
	if len(clis) == 0 {
		t.Skip("neither docker-compose nor the docker compose plugin is installed " +
			"(Debian: apt-get install docker-compose)")
	}
	for _, argv := range clis {
		cmd := exec.CommandContext(t.Context(), argv[0], append(argv[1:], "-f", composeFile, "config", "-q")...)
		cmd.Dir = repoRootFromHere
		// A fixed project name, and no COMPOSE_* settings of the caller.
		cmd.Env = []string{"COMPOSE_PROJECT_NAME=otelaudit"}
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "COMPOSE_") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%s -f %s config -q: %v\n%s", strings.Join(argv, " "), composeFile, err, out)
		} else if strings.Contains(strings.ToLower(string(out)), "warn") {
			// Compose accepts obsolete or unknown things with a warning.
			t.Errorf("%s warned:\n%s", strings.Join(argv, " "), out)
		}
	}
}

// TestPorts checks that every service publishes exactly the ports it listens
// on, on 127.0.0.1 and on host ports of its own, and that every address one
// service sends to is one that the other listens on.
func TestPorts(t *testing.T) {
	services := loadCompose(t)
	var col struct{ Receivers, Extensions, Exporters map[string]any }
	decode(t, collectorConfig, &col)
	var loki struct {
		Server struct {
			HTTPListenPort int `yaml:"http_listen_port"`
		}
	}
	decode(t, lokiConfig, &loki)
	var ds struct{ Datasources []struct{ URL string } }
	decode(t, datasourceFile, &ds)

	port := func(hostport string) string {
		_, p, err := net.SplitHostPort(hostport)
		if err != nil {
			t.Errorf("address %q: %v", hostport, err)
		}
		return p
	}
	var collectorPorts []string
	for _, section := range []map[string]any{col.Receivers, col.Extensions} {
		values(section, "endpoint", func(v any) { collectorPorts = append(collectorPorts, port(v.(string))) })
	}
	listens := map[string][]string{
		"demo":      {port(flagValue(services["demo"].Command, "-listen"))},
		"collector": collectorPorts,
		"loki":      {strconv.Itoa(loki.Server.HTTPListenPort)},
		"grafana":   {grafanaHTTPPort},
	}

	owner := map[string]string{} // host port -> service
	for name, svc := range services {
		var published []string
		for _, p := range svc.Ports {
			parts := strings.Split(p, ":")
			if len(parts) != 3 || parts[0] != "127.0.0.1" {
				t.Errorf("service %s: port %q: publish as 127.0.0.1:HOST:CONTAINER (the demo holds audit data)", name, p)
				continue
			}
			if prev, ok := owner[parts[1]]; ok {
				t.Errorf("host port %s is published by %s and %s", parts[1], prev, name)
			}
			owner[parts[1]] = name
			published = append(published, parts[2])
		}
		want, ok := listens[name]
		if !ok {
			t.Errorf("service %s: this test does not know what it listens on; add it", name)
		}
		slices.Sort(published)
		want = slices.Sorted(slices.Values(want))
		if !slices.Equal(published, want) {
			t.Errorf("service %s publishes container ports %v, listens on %v", name, published, want)
		}
	}

	sends := []struct{ from, url string }{
		{"demo OTEL_EXPORTER_OTLP_ENDPOINT", services["demo"].Environment["OTEL_EXPORTER_OTLP_ENDPOINT"]},
		{"grafana data source", ds.Datasources[0].URL},
	}
	values(col.Exporters, "endpoint", func(v any) {
		u, _ := v.(string)
		sends = append(sends, struct{ from, url string }{"collector exporter", u})
		if !strings.HasSuffix(u, "/otlp") {
			t.Errorf("collector exporter endpoint %q: want Loki's OTLP path /otlp (the exporter appends /v1/logs)", u)
		}
	})
	for _, s := range sends {
		u, err := url.Parse(s.url)
		if err != nil || u.Scheme != "http" {
			t.Errorf("%s %q: want http://SERVICE:PORT", s.from, s.url)
			continue
		}
		if !slices.Contains(listens[u.Hostname()], u.Port()) {
			t.Errorf("%s %s: service %q listens on %v", s.from, s.url, u.Hostname(), listens[u.Hostname()])
		}
	}
}

// TestMounts checks that every bind mount is a read-only file of the
// repository, and that every path a service reads is mounted from the file
// meant for it, or from a named volume where data must outlive a container.
func TestMounts(t *testing.T) {
	services := loadCompose(t)
	for name, svc := range services {
		for _, v := range svc.Volumes {
			parts := strings.Split(v, ":")
			if !strings.HasPrefix(parts[0], ".") {
				continue // a named volume; Compose checks it is declared
			}
			src := path.Clean(parts[0])
			if _, err := os.Stat(filepath.Join(repoRootFromHere, src)); err != nil || strings.HasPrefix(src, "..") {
				t.Errorf("service %s: bind mount %s is no file of the repository: %v", name, src, err)
			}
			if len(parts) != 3 || parts[2] != "ro" {
				t.Errorf("service %s: bind mount %q is writable; mount configuration :ro", name, v)
			}
		}
	}

	settings, err := config.Parse(dockerSettings, read(t, dockerSettings))
	if err != nil {
		t.Fatal(err)
	}
	var loki struct {
		Common struct {
			PathPrefix string `yaml:"path_prefix"`
		}
	}
	decode(t, lokiConfig, &loki)
	var dashboards struct {
		Providers []struct{ Options struct{ Path string } }
	}
	decode(t, dashboardsFile, &dashboards)
	if len(dashboards.Providers) != 1 {
		t.Fatalf("%s: %d providers, want 1", dashboardsFile, len(dashboards.Providers))
	}
	const provisioning = "/etc/grafana/provisioning" // where Grafana looks
	tests := []struct {
		service, path string
		want          string // a repository file; "" for a named volume
	}{
		{"collector", flagValue(services["collector"].Command, "--config"), collectorConfig},
		{"loki", flagValue(services["loki"].Command, "-config.file"), lokiConfig},
		{"loki", loki.Common.PathPrefix, ""},
		{"demo", settings.Folder, ""},
		{"grafana", provisioning + "/datasources/" + path.Base(datasourceFile), datasourceFile},
		{"grafana", provisioning + "/dashboards/" + path.Base(dashboardsFile), dashboardsFile},
		{"grafana", dashboards.Providers[0].Options.Path + "/" + path.Base(dashboardFile), dashboardFile},
		{"grafana", services["grafana"].Environment["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"], dashboardFile},
	}
	for _, tc := range tests {
		src, bind, ok := hostPath(services[tc.service], tc.path)
		switch {
		case tc.path == "" || !ok:
			t.Errorf("service %s: nothing is mounted at %q", tc.service, tc.path)
		case tc.want == "" && bind:
			t.Errorf("service %s: %s is the bind mount %s; want a named volume", tc.service, tc.path, src)
		case tc.want != "" && src != tc.want:
			t.Errorf("service %s: %s comes from %s, want %s", tc.service, tc.path, src, tc.want)
		}
	}
}

// TestDockerfile checks the demo image against the repository: the files it
// copies exist and reach the build context, its Go is the one go.mod names,
// it builds ./examples/server, the server's -settings file is the one the
// image holds, and the audit folder belongs to the non-root user it runs as.
func TestDockerfile(t *testing.T) {
	demo := loadCompose(t)["demo"]
	if got := path.Join(demo.Build.Context, demo.Build.Dockerfile); got != dockerfile {
		t.Errorf("demo builds from %s, want %s", got, dockerfile)
	}
	var ignore []string
	for _, l := range strings.Split(string(read(t, dockerignore)), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			ignore = append(ignore, l)
		}
	}
	// excluded reports whether a .dockerignore line names p or a folder
	// above it; "**/" matches one path element at any depth.
	excluded := func(p string) bool {
		for ; p != "."; p = path.Dir(p) {
			for _, pat := range ignore {
				anyDepth, ok := strings.CutPrefix(pat, "**/")
				m, _ := path.Match(pat, p)
				m2, _ := path.Match(anyDepth, path.Base(p))
				if m || ok && m2 {
					return true
				}
			}
		}
		return false
	}
	if excluded("examples/server") {
		t.Errorf("%s excludes examples/server, which the image builds", dockerignore)
	}

	text := string(read(t, dockerfile))
	var from []string
	var user string
	copied := map[string]string{} // source -> destination, from the build context
	owner := map[string]string{}  // destination -> --chown user
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "FROM":
			from = append(from, f[1])
		case "USER":
			user, _, _ = strings.Cut(f[1], ":")
		case "COPY":
			args, fromStage := f[1:], false
			for ; len(args) > 0 && strings.HasPrefix(args[0], "--"); args = args[1:] {
				fromStage = fromStage || strings.HasPrefix(args[0], "--from=")
				if u, ok := strings.CutPrefix(args[0], "--chown="); ok {
					owner[path.Clean(args[len(args)-1])], _, _ = strings.Cut(u, ":")
				}
			}
			for _, src := range args[:len(args)-1] {
				if src = path.Clean(src); fromStage || src == "." {
					continue
				}
				copied[src] = args[len(args)-1]
				if _, err := os.Stat(filepath.Join(repoRootFromHere, src)); err != nil {
					t.Errorf("COPY source %s: %v", src, err)
				}
				if excluded(src) {
					t.Errorf("COPY source %s is excluded by %s", src, dockerignore)
				}
			}
		}
	}

	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(read(t, "go.mod"))
	if len(from) < 2 || goVersion == nil || !strings.HasPrefix(from[0], "golang:"+string(goVersion[1])) {
		t.Errorf("FROM %q: want a build stage golang:<go.mod's Go> and a runtime stage", from)
	}
	if !regexp.MustCompile(`go build .* \./examples/server\b`).MatchString(text) {
		t.Error("no RUN go build ./examples/server")
	}
	if got, want := flagValue(demo.Command, "-settings"), copied[dockerSettings]; got != want {
		t.Errorf("demo runs with -settings %q; the image holds %s at %q", got, dockerSettings, want)
	}
	settings, err := config.Parse(dockerSettings, read(t, dockerSettings))
	if err != nil {
		t.Fatal(err)
	}
	if user == "" || user == "0" || user == "root" {
		t.Errorf("USER %q: the server must not run as root", user)
	}
	if got := owner[path.Clean(settings.Folder)]; got != user {
		t.Errorf("the audit folder %s belongs to %q in the image, the server runs as %q", settings.Folder, got, user)
	}
}

// lokiName is the name Loki's OTLP ingestion gives an attribute: every
// character not allowed in a label name becomes an underscore.
func lokiName(k attribute.Key) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			return r
		}
		return '_'
	}, string(k))
}

// Words of a LogQL query: every word that is not a string, a Grafana
// variable or one of the LogQL keywords and functions the dashboard uses is
// a label or structured-metadata name.
var (
	logqlSkip  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|\$\w+`)
	logqlWord  = regexp.MustCompile(`\b[A-Za-z_]\w*`)
	logqlWords = []string{"sum", "by", "without", "count_over_time", "topk", "label_format", "or"}
)

// TestDashboard checks the dashboard against the stack: its data source is
// the provisioned one, every query selects the demo's service and uses only
// names an audit record has in Loki (the attributes of psono.Fields, the
// collector's event name), and the panels group and filter by the fields the
// README names.
func TestDashboard(t *testing.T) {
	event, user, ip, success := lokiName(eventNameAttr), lokiName(psono.User.Attr), lokiName(psono.UserIP.Attr), lokiName(psono.Success.Attr)
	known := map[string]bool{"service_name": true, event: true}
	for _, f := range append(psono.Fields[:], psono.Field{Attr: psono.Route}) {
		if f.Attr != "" {
			known[lokiName(f.Attr)] = true
		}
	}
	compact := func(s string) string { return strings.Join(strings.Fields(s), "") }

	// Loki keeps the attributes as structured metadata, and the collector
	// copies the EventName into event.name.
	var loki struct {
		Limits struct {
			AllowStructuredMetadata *bool `yaml:"allow_structured_metadata"`
		} `yaml:"limits_config"`
		Schema struct{ Configs []struct{ Schema string } } `yaml:"schema_config"`
	}
	decode(t, lokiConfig, &loki)
	if n := len(loki.Schema.Configs); n == 0 || loki.Schema.Configs[n-1].Schema != "v13" ||
		loki.Limits.AllowStructuredMetadata != nil && !*loki.Limits.AllowStructuredMetadata {
		t.Errorf("%s: structured metadata needs schema v13 and allow_structured_metadata", lokiConfig)
	}
	if !strings.Contains(compact(string(read(t, collectorConfig))), `set(log.attributes["`+eventNameAttr+`"],log.event_name)`) {
		t.Errorf("%s: no transform copies log.event_name into %s", collectorConfig, eventNameAttr)
	}

	var ds struct{ Datasources []struct{ UID, Type string } }
	decode(t, datasourceFile, &ds)
	if len(ds.Datasources) != 1 || ds.Datasources[0].Type != "loki" {
		t.Fatalf("%s: want one loki data source", datasourceFile)
	}
	var doc any
	decode(t, dashboardFile, &doc)
	values(doc, "datasource", func(v any) {
		if m, _ := v.(map[string]any); m["uid"] != ds.Datasources[0].UID {
			t.Errorf("data source %v, want uid %q as provisioned", v, ds.Datasources[0].UID)
		}
	})
	values(doc, "expr", func(v any) {
		expr, _ := v.(string)
		if !strings.Contains(compact(expr), `{service_name="$service"}`) {
			t.Errorf("query %q does not select {service_name=\"$service\"}", expr)
		}
		for _, w := range logqlWord.FindAllString(logqlSkip.ReplaceAllString(expr, " "), -1) {
			if !known[w] && !slices.Contains(logqlWords, w) {
				t.Errorf("query %q uses %q, which no audit record has in Loki", expr, w)
			}
		}
	})

	type panel struct {
		Title, Type     string
		Targets         []struct{ Expr string }
		Transformations []struct {
			ID      string
			Options struct{ Include struct{ Names []string } }
		}
	}
	type variable struct {
		Name    string
		Query   struct{ Label string }
		Current struct{ Value string }
	}
	var d struct {
		Panels     []panel
		Templating struct{ List []variable }
	}
	decode(t, dashboardFile, &d)
	panels := []struct {
		title, typ string
		fragments  []string // of its query, spaces ignored
	}{
		{"events over time", "timeseries", []string{"count_over_time", "by(" + event + ")"}},
		{"Failures by user", "bargauge", []string{success + `="false"`, "by(" + user + ")"}},
		{"Failures by client IP", "bargauge", []string{success + `="false"`, "by(" + ip + ")"}},
		{"Latest audit events", "table", nil},
	}
	for _, want := range panels {
		i := slices.IndexFunc(d.Panels, func(p panel) bool { return strings.Contains(p.Title, want.title) })
		if i < 0 {
			t.Errorf("no panel titled *%s*", want.title)
			continue
		}
		p := d.Panels[i]
		var query string
		for _, tg := range p.Targets {
			query += compact(tg.Expr)
		}
		for _, f := range want.fragments {
			if !strings.Contains(query, f) {
				t.Errorf("panel %q: query %q lacks %q", p.Title, query, f)
			}
		}
		if p.Type != want.typ {
			t.Errorf("panel %q: type %q, want %q", p.Title, p.Type, want.typ)
		}
		if p.Type != "table" {
			continue
		}
		var columns []string
		for _, tr := range p.Transformations {
			if tr.ID == "filterFieldsByName" {
				columns = tr.Options.Include.Names
			}
		}
		for _, c := range []string{"Time", event, user, ip, lokiName(psono.ReqMethod.Attr), lokiName(psono.ReqURL.Attr), lokiName(psono.Status.Attr)} {
			if !slices.Contains(columns, c) {
				t.Errorf("panel %q: columns %q lack %s", p.Title, columns, c)
			}
		}
		for _, c := range columns {
			if c != "Time" && c != "timestamp" && !known[c] {
				t.Errorf("panel %q: column %q is no name an audit record has in Loki", p.Title, c)
			}
		}
	}

	service := loadCompose(t)["demo"].Environment["OTEL_SERVICE_NAME"]
	i := slices.IndexFunc(d.Templating.List, func(v variable) bool { return v.Name == "service" })
	if i < 0 || d.Templating.List[i].Query.Label != "service_name" || d.Templating.List[i].Current.Value != service {
		t.Errorf("want a variable service over the label service_name, by default the demo's OTEL_SERVICE_NAME %q", service)
	}
}
