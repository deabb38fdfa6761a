package deploycheck

import (
	"fmt"
	"net/url"
	"os"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// composeProject is the part of docker-compose.yml the tests read.
type composeProject struct {
	Version  string                    `yaml:"version"`
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

// composeService is one service of docker-compose.yml. Ports and volumes
// keep both of Compose's syntaxes (a string, or a map in the long syntax).
type composeService struct {
	Image       string            `yaml:"image"`
	Build       *composeBuild     `yaml:"build"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Ports       []any             `yaml:"ports"`
	Volumes     []any             `yaml:"volumes"`
	DependsOn   []string          `yaml:"depends_on"`
}

// composeBuild is a service's build section (long syntax).
type composeBuild struct {
	Context    string `yaml:"context"`
	Dockerfile string `yaml:"dockerfile"`
}

// mount is one entry of a service's volumes, either syntax.
type mount struct {
	Bind     bool   // a host path (bind mount) rather than a named volume
	Source   string // host path or volume name
	Target   string // path in the container
	ReadOnly bool
}

// publishedPort is one entry of a service's ports, either syntax.
type publishedPort struct {
	HostIP   string
	HostPort int // 0 when Docker picks one
	Target   int
	Protocol string
}

func loadCompose(t *testing.T) composeProject {
	t.Helper()
	var p composeProject
	loadYAML(t, composeFile, &p)
	if len(p.Services) == 0 {
		t.Fatalf("%s: no services", composeFile)
	}
	return p
}

// parseMount reads a short ("src:dst[:mode]") or long volume entry.
func parseMount(v any) (mount, error) {
	switch m := v.(type) {
	case string:
		parts := strings.Split(m, ":")
		if len(parts) < 2 || len(parts) > 3 {
			return mount{}, fmt.Errorf("volume %q: want source:target[:mode]", m)
		}
		src := parts[0]
		out := mount{
			Source: src,
			Target: parts[1],
			Bind:   strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/") || strings.HasPrefix(src, "~"),
		}
		if len(parts) == 3 {
			out.ReadOnly = slices.Contains(strings.Split(parts[2], ","), "ro")
		}
		return out, nil
	case map[string]any:
		typ, _ := m["type"].(string)
		src, _ := m["source"].(string)
		dst, _ := m["target"].(string)
		ro, _ := m["read_only"].(bool)
		if dst == "" {
			return mount{}, fmt.Errorf("volume %v: no target", m)
		}
		return mount{Bind: typ == "bind", Source: src, Target: dst, ReadOnly: ro}, nil
	default:
		return mount{}, fmt.Errorf("volume entry of type %T", v)
	}
}

// parsePort reads a short ("[ip:][host:]container[/proto]") or long port
// entry. Port ranges are not used in this repository and are rejected.
func parsePort(v any) (publishedPort, error) {
	switch p := v.(type) {
	case string:
		spec, proto, _ := strings.Cut(p, "/")
		if proto == "" {
			proto = "tcp"
		}
		parts := strings.Split(spec, ":")
		var out publishedPort
		out.Protocol = proto
		var host, target string
		switch len(parts) {
		case 1:
			target = parts[0]
		case 2:
			host, target = parts[0], parts[1]
		case 3:
			out.HostIP, host, target = parts[0], parts[1], parts[2]
		default:
			return publishedPort{}, fmt.Errorf("port %q: too many parts", p)
		}
		var err error
		if out.Target, err = strconv.Atoi(target); err != nil {
			return publishedPort{}, fmt.Errorf("port %q: container port: %v", p, err)
		}
		if host != "" {
			if out.HostPort, err = strconv.Atoi(host); err != nil {
				return publishedPort{}, fmt.Errorf("port %q: host port: %v", p, err)
			}
		}
		return out, nil
	case int:
		return publishedPort{Target: p, Protocol: "tcp"}, nil
	case map[string]any:
		out := publishedPort{Protocol: "tcp"}
		target, ok := p["target"].(int)
		if !ok {
			return publishedPort{}, fmt.Errorf("port %v: no integer target", p)
		}
		out.Target = target
		switch pub := p["published"].(type) {
		case int:
			out.HostPort = pub
		case string:
			n, err := strconv.Atoi(pub)
			if err != nil {
				return publishedPort{}, fmt.Errorf("port %v: published: %v", p, err)
			}
			out.HostPort = n
		}
		if ip, ok := p["host_ip"].(string); ok {
			out.HostIP = ip
		}
		if proto, ok := p["protocol"].(string); ok {
			out.Protocol = proto
		}
		return out, nil
	default:
		return publishedPort{}, fmt.Errorf("port entry of type %T", v)
	}
}

func mounts(t *testing.T, name string, svc composeService) []mount {
	t.Helper()
	var out []mount
	for _, v := range svc.Volumes {
		m, err := parseMount(v)
		if err != nil {
			t.Fatalf("service %s: %v", name, err)
		}
		out = append(out, m)
	}
	return out
}

func ports(t *testing.T, name string, svc composeService) []publishedPort {
	t.Helper()
	var out []publishedPort
	for _, v := range svc.Ports {
		p, err := parsePort(v)
		if err != nil {
			t.Fatalf("service %s: %v", name, err)
		}
		out = append(out, p)
	}
	return out
}

// mountAt returns the mount of svc whose container path is target.
func mountAt(t *testing.T, name string, svc composeService, target string) (mount, bool) {
	t.Helper()
	for _, m := range mounts(t, name, svc) {
		if path.Clean(m.Target) == path.Clean(target) {
			return m, true
		}
	}
	return mount{}, false
}

// bindSource turns a bind mount's host path (relative to the compose file)
// into a slash-separated path relative to the repository root.
func bindSource(m mount) string {
	return path.Clean(strings.TrimPrefix(m.Source, "./"))
}

// pinnedImage matches an image reference with an explicit version tag
// (digits, as in 0.165.0 or 3.7.7) or a digest; "latest" and bare names do
// not match.
var pinnedImage = regexp.MustCompile(`^[a-z0-9./_-]+(:[0-9][0-9A-Za-z._-]*|@sha256:[0-9a-f]{64})$`)

func TestParsePort(t *testing.T) {
	tests := []struct {
		in      any
		want    publishedPort
		wantErr bool
	}{
		{in: "3000", want: publishedPort{Target: 3000, Protocol: "tcp"}},
		{in: "3000:3001", want: publishedPort{HostPort: 3000, Target: 3001, Protocol: "tcp"}},
		{in: "127.0.0.1:4318:4318/udp", want: publishedPort{HostIP: "127.0.0.1", HostPort: 4318, Target: 4318, Protocol: "udp"}},
		{in: map[string]any{"target": 80, "published": "8080", "host_ip": "::1"}, want: publishedPort{HostIP: "::1", HostPort: 8080, Target: 80, Protocol: "tcp"}},
		{in: "a:b:c:d", wantErr: true},
		{in: "x:80", wantErr: true},
	}
	for _, tc := range tests {
		got, err := parsePort(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("parsePort(%v) error = %v, wantErr %v", tc.in, err, tc.wantErr)
			continue
		}
		if !tc.wantErr && got != tc.want {
			t.Errorf("parsePort(%v) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestParseMount(t *testing.T) {
	tests := []struct {
		in      any
		want    mount
		wantErr bool
	}{
		{in: "./a/b.yaml:/etc/b.yaml:ro", want: mount{Bind: true, Source: "./a/b.yaml", Target: "/etc/b.yaml", ReadOnly: true}},
		{in: "data:/var/lib/x", want: mount{Source: "data", Target: "/var/lib/x"}},
		{in: map[string]any{"type": "bind", "source": "./c", "target": "/c", "read_only": true}, want: mount{Bind: true, Source: "./c", Target: "/c", ReadOnly: true}},
		{in: "/only-one-part", wantErr: true},
	}
	for _, tc := range tests {
		got, err := parseMount(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("parseMount(%v) error = %v, wantErr %v", tc.in, err, tc.wantErr)
			continue
		}
		if !tc.wantErr && got != tc.want {
			t.Errorf("parseMount(%v) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestComposeServices(t *testing.T) {
	p := loadCompose(t)
	if p.Version != "" {
		t.Errorf("%s has a top-level version %q: it is obsolete in the Compose specification; leave it out", composeFile, p.Version)
	}
	type serviceCase struct {
		service     string
		imagePrefix string // "" for the service built from a Dockerfile
		dockerfile  string
		target      int // a container port the service must publish
		dependsOn   []string
	}
	tests := []serviceCase{
		{service: "demo", dockerfile: dockerfile, target: 10200, dependsOn: []string{"collector"}},
		{service: "collector", imagePrefix: "otel/opentelemetry-collector-contrib:", target: 4318, dependsOn: []string{"loki"}},
		{service: "loki", imagePrefix: "grafana/loki:", target: 3100},
		{service: "grafana", imagePrefix: "grafana/grafana:", target: 3000, dependsOn: []string{"loki"}},
	}
	for _, tc := range tests {
		t.Run(tc.service, func(t *testing.T) {
			svc, ok := p.Services[tc.service]
			if !ok {
				t.Fatalf("no service %q in %s", tc.service, composeFile)
			}
			if tc.dockerfile != "" {
				if svc.Build == nil {
					t.Fatalf("service %s has no build section", tc.service)
				}
				ctx := path.Clean(strings.TrimPrefix(svc.Build.Context, "./"))
				if ctx != "." {
					t.Errorf("build context = %q, want the repository root (.)", svc.Build.Context)
				}
				if got := path.Join(ctx, svc.Build.Dockerfile); got != tc.dockerfile {
					t.Errorf("dockerfile = %q, want %q", got, tc.dockerfile)
				}
				if _, err := os.Stat(repoPath(t, tc.dockerfile)); err != nil {
					t.Errorf("dockerfile: %v", err)
				}
			} else {
				if !strings.HasPrefix(svc.Image, tc.imagePrefix) {
					t.Errorf("image = %q, want %s<version>", svc.Image, tc.imagePrefix)
				}
				if !pinnedImage.MatchString(svc.Image) {
					t.Errorf("image %q is not pinned to a version tag or digest", svc.Image)
				}
			}
			published := false
			for _, pp := range ports(t, tc.service, svc) {
				if pp.Target == tc.target && pp.HostPort != 0 {
					published = true
				}
			}
			if !published {
				t.Errorf("container port %d is not published on a fixed host port", tc.target)
			}
			for _, dep := range tc.dependsOn {
				if !slices.Contains(svc.DependsOn, dep) {
					t.Errorf("depends_on %v lacks %q", svc.DependsOn, dep)
				}
			}
		})
	}
	for name := range p.Services {
		if !slices.ContainsFunc(tests, func(tc serviceCase) bool { return tc.service == name }) {
			t.Errorf("service %q is not checked by this test; add it to the table", name)
		}
	}
	for name, svc := range p.Services {
		for _, dep := range svc.DependsOn {
			if _, ok := p.Services[dep]; !ok {
				t.Errorf("service %s depends on undefined service %q", name, dep)
			}
		}
	}
}

func TestComposeMounts(t *testing.T) {
	p := loadCompose(t)
	names := make([]string, 0, len(p.Services))
	for name := range p.Services {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		svc := p.Services[name]
		targets := map[string]bool{}
		for _, m := range mounts(t, name, svc) {
			if targets[path.Clean(m.Target)] {
				t.Errorf("service %s: two mounts at %s", name, m.Target)
			}
			targets[path.Clean(m.Target)] = true
			if !m.Bind {
				if _, ok := p.Volumes[m.Source]; !ok {
					t.Errorf("service %s: named volume %q is not declared under top-level volumes", name, m.Source)
				}
				continue
			}
			if strings.HasPrefix(m.Source, "/") || strings.HasPrefix(m.Source, "~") {
				t.Errorf("service %s: bind mount %q uses a host path outside the repository", name, m.Source)
				continue
			}
			src := bindSource(m)
			if strings.HasPrefix(src, "../") || src == ".." {
				t.Errorf("service %s: bind mount %q leaves the repository", name, m.Source)
				continue
			}
			if _, err := os.Stat(repoPath(t, src)); err != nil {
				t.Errorf("service %s: bind-mounted host path %s: %v", name, src, err)
			}
			if !m.ReadOnly {
				t.Errorf("service %s: bind mount of %s is writable; configuration mounts should be :ro", name, src)
			}
		}
	}
	// Declared volumes are used by some service.
	for vol := range p.Volumes {
		used := false
		for name, svc := range p.Services {
			for _, m := range mounts(t, name, svc) {
				if !m.Bind && m.Source == vol {
					used = true
				}
			}
		}
		if !used {
			t.Errorf("volume %q is declared but no service mounts it", vol)
		}
	}
}

func TestComposePortsDoNotCollide(t *testing.T) {
	p := loadCompose(t)
	type hostKey struct {
		port  int
		proto string
	}
	owner := map[hostKey]string{}
	for name, svc := range p.Services {
		for _, pp := range ports(t, name, svc) {
			if pp.HostPort == 0 {
				continue
			}
			if pp.HostIP != "127.0.0.1" && pp.HostIP != "::1" {
				t.Errorf("service %s publishes port %d on %q; publish on 127.0.0.1 only (demo credentials, audit data)", name, pp.HostPort, pp.HostIP)
			}
			// Host IPs are ignored on purpose: 0.0.0.0 and 127.0.0.1 on the
			// same port collide too.
			k := hostKey{pp.HostPort, pp.Protocol}
			if prev, ok := owner[k]; ok {
				t.Errorf("host port %d/%s is published by both %s and %s", pp.HostPort, pp.Protocol, prev, name)
			}
			owner[k] = name
		}
	}
	if len(owner) == 0 {
		t.Fatal("no service publishes a port")
	}
}

func TestComposeCollectorConfigMounted(t *testing.T) {
	p := loadCompose(t)
	svc, ok := p.Services["collector"]
	if !ok {
		t.Fatal("no collector service")
	}
	var configPath string
	for i, arg := range svc.Command {
		if v, ok := strings.CutPrefix(arg, "--config="); ok {
			configPath = v
		} else if arg == "--config" && i+1 < len(svc.Command) {
			configPath = svc.Command[i+1]
		}
	}
	if configPath == "" {
		t.Fatalf("collector command %q has no --config", svc.Command)
	}
	m, ok := mountAt(t, "collector", svc, configPath)
	if !ok {
		t.Fatalf("collector reads %s, but nothing is mounted there", configPath)
	}
	if got := bindSource(m); got != collectorConfigFile {
		t.Errorf("collector config mounted from %s, want %s", got, collectorConfigFile)
	}
	if _, err := os.Stat(repoPath(t, collectorConfigFile)); err != nil {
		t.Errorf("collector config: %v", err)
	}
}

func TestComposeDemoSendsToCollector(t *testing.T) {
	p := loadCompose(t)
	demo := p.Services["demo"]
	if got := demo.Environment["OTEL_SERVICE_NAME"]; got != demoServiceName {
		t.Errorf("demo OTEL_SERVICE_NAME = %q, want %q (the dashboard's default service)", got, demoServiceName)
	}
	endpoint := demo.Environment["OTEL_EXPORTER_OTLP_ENDPOINT"]
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme != "http" || u.Hostname() == "" {
		t.Fatalf("demo OTEL_EXPORTER_OTLP_ENDPOINT = %q, want http://<service>:<port>", endpoint)
	}
	if u.Hostname() != collectorServiceName {
		t.Errorf("demo sends OTLP to host %q, want the %s service", u.Hostname(), collectorServiceName)
	}
	if proto := demo.Environment["OTEL_EXPORTER_OTLP_PROTOCOL"]; proto != "" && proto != "http/protobuf" && proto != "http/json" {
		t.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL = %q does not match an http:// endpoint", proto)
	}
	col := loadCollectorConfig(t)
	httpPort := col.otlpHTTPPort(t)
	if u.Port() != strconv.Itoa(httpPort) {
		t.Errorf("demo sends OTLP to port %q, but the collector's OTLP/HTTP receiver listens on %d", u.Port(), httpPort)
	}
	published := false
	for _, pp := range ports(t, "collector", p.Services["collector"]) {
		if pp.Target == httpPort {
			published = true
		}
	}
	if !published {
		t.Errorf("collector does not publish its OTLP/HTTP port %d", httpPort)
	}
}

func TestComposeDemoCommandMatchesImage(t *testing.T) {
	p := loadCompose(t)
	demo := p.Services["demo"]
	flags := map[string]string{}
	for i := 0; i+1 < len(demo.Command); i += 2 {
		if !strings.HasPrefix(demo.Command[i], "-") {
			t.Fatalf("demo command %q: want flag/value pairs", demo.Command)
		}
		flags[strings.TrimLeft(demo.Command[i], "-")] = demo.Command[i+1]
	}
	d := parseDockerfile(t)
	if want := d.copyDest(dockerSettingsFile); flags["settings"] != want {
		t.Errorf("demo -settings %q, but the image holds %s at %q", flags["settings"], dockerSettingsFile, want)
	}
	listen := flags["listen"]
	host, port, ok := strings.Cut(listen, ":")
	if !ok || host != "0.0.0.0" {
		t.Errorf("demo -listen %q: want 0.0.0.0:<port> so that the published port reaches it", listen)
	}
	published := false
	for _, pp := range ports(t, "demo", demo) {
		if strconv.Itoa(pp.Target) == port {
			published = true
		}
	}
	if !published {
		t.Errorf("demo listens on port %s, which is not published", port)
	}
	// The audit folder is on a named volume, so audit.log survives the
	// container.
	s := loadDockerSettings(t)
	m, ok := mountAt(t, "demo", demo, s.Folder)
	if !ok {
		t.Fatalf("LOGGING_AUDIT_FOLDER %s is not a mount of the demo service", s.Folder)
	}
	if m.Bind {
		t.Errorf("audit folder %s is a bind mount of %s; want a named volume", s.Folder, m.Source)
	}
}
