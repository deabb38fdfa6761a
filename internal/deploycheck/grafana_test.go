package deploycheck

import (
	"encoding/json"
	"net/url"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// datasourceProvisioning is Grafana's data source provisioning file.
type datasourceProvisioning struct {
	APIVersion  int `yaml:"apiVersion"`
	Datasources []struct {
		Name      string `yaml:"name"`
		UID       string `yaml:"uid"`
		Type      string `yaml:"type"`
		URL       string `yaml:"url"`
		IsDefault bool   `yaml:"isDefault"`
	} `yaml:"datasources"`
}

// dashboardProvisioning is Grafana's dashboard provisioning file.
type dashboardProvisioning struct {
	APIVersion int `yaml:"apiVersion"`
	Providers  []struct {
		Name    string `yaml:"name"`
		Type    string `yaml:"type"`
		Options struct {
			Path string `yaml:"path"`
		} `yaml:"options"`
	} `yaml:"providers"`
}

// dsRef is a data source reference in a dashboard.
type dsRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// dashboard is the part of a Grafana dashboard JSON model the tests read.
type dashboard struct {
	UID           string  `json:"uid"`
	Title         string  `json:"title"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []variable `json:"list"`
	} `json:"templating"`
}

// variable is a dashboard template variable.
type variable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Datasource *dsRef          `json:"datasource"`
	Query      json.RawMessage `json:"query"`
	Definition string          `json:"definition"`
	Current    struct {
		Value any `json:"value"`
	} `json:"current"`
}

// transformation is a panel's data transformation.
type transformation struct {
	ID      string          `json:"id"`
	Options json.RawMessage `json:"options"`
}

// panel is one dashboard panel.
type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *dsRef `json:"datasource"`
	GridPos    struct {
		X int `json:"x"`
		Y int `json:"y"`
		W int `json:"w"`
		H int `json:"h"`
	} `json:"gridPos"`
	Targets []struct {
		RefID      string `json:"refId"`
		Datasource *dsRef `json:"datasource"`
		Expr       string `json:"expr"`
		QueryType  string `json:"queryType"`
	} `json:"targets"`
	Transformations []transformation `json:"transformations"`
	Panels          []panel          `json:"panels"` // inside a collapsed row
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	var d dashboard
	loadJSON(t, dashboardFile, &d)
	if len(d.Panels) == 0 {
		t.Fatalf("%s: no panels", dashboardFile)
	}
	return d
}

// allPanels flattens rows.
func (d dashboard) allPanels() []panel {
	var out []panel
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			out = append(out, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

// provisionedLoki returns the provisioned Loki data source.
func provisionedLoki(t *testing.T) (uid, rawURL string) {
	t.Helper()
	var prov datasourceProvisioning
	loadYAML(t, datasourceFile, &prov)
	var found []string
	for _, ds := range prov.Datasources {
		if ds.Type == "loki" {
			found = append(found, ds.UID)
			uid, rawURL = ds.UID, ds.URL
		}
	}
	if len(found) != 1 || uid == "" {
		t.Fatalf("%s: want exactly one loki data source with a uid, got uids %q", datasourceFile, found)
	}
	return uid, rawURL
}

// Label names in LogQL: after a selector brace or pipe, before a matcher
// operator, and inside by/without groupings.
var (
	logqlMatcher  = regexp.MustCompile(`(?:[{,|]\s*)([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=|>=|<=|>|<)`)
	logqlGrouping = regexp.MustCompile(`\b(?:by|without)\s*\(([^)]*)\)`)
	logqlFormat   = regexp.MustCompile(`\|\s*label_format\s+([A-Za-z_][A-Za-z0-9_]*)\s*=`)
	templateField = regexp.MustCompile(`\{\{[^}]*?\.([A-Za-z_][A-Za-z0-9_]*)`)
)

// logqlNames returns the label and structured-metadata names a LogQL query
// refers to.
func logqlNames(expr string) []string {
	set := map[string]bool{}
	for _, m := range logqlMatcher.FindAllStringSubmatch(expr, -1) {
		set[m[1]] = true
	}
	for _, m := range logqlGrouping.FindAllStringSubmatch(expr, -1) {
		for _, n := range strings.Split(m[1], ",") {
			if n = strings.TrimSpace(n); n != "" {
				set[n] = true
			}
		}
	}
	for _, m := range logqlFormat.FindAllStringSubmatch(expr, -1) {
		set[m[1]] = true
	}
	for _, m := range templateField.FindAllStringSubmatch(expr, -1) {
		set[m[1]] = true
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func TestLogqlNames(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{`{service_name="x"}`, []string{"service_name"}},
		{`sum by (event_name, user_name) (count_over_time({a="b"} | c != "" | d=~"e" [5m]))`, []string{"a", "c", "d", "event_name", "user_name"}},
		{"{a=\"b\"} | label_format user_name=`{{ or .user_name \"x\" }}`", []string{"a", "user_name"}},
		{`{a="b"} | status >= 400`, []string{"a", "status"}},
	}
	for _, tc := range tests {
		if got := logqlNames(tc.expr); !slices.Equal(got, tc.want) {
			t.Errorf("logqlNames(%q) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}

func TestDashboardDatasources(t *testing.T) {
	uid, _ := provisionedLoki(t)
	d := loadDashboard(t)
	check := func(where string, ref *dsRef) {
		t.Helper()
		if ref == nil {
			t.Errorf("%s: no datasource (the default one would be used silently)", where)
			return
		}
		if ref.UID != uid || ref.Type != "loki" {
			t.Errorf("%s: datasource {type %q, uid %q}, want {loki, %q} as provisioned in %s", where, ref.Type, ref.UID, uid, datasourceFile)
		}
	}
	for _, p := range d.allPanels() {
		if p.Type == "row" {
			continue
		}
		where := "panel " + strconv.Quote(p.Title)
		check(where, p.Datasource)
		if len(p.Targets) == 0 {
			t.Errorf("%s: no queries", where)
		}
		for _, tg := range p.Targets {
			check(where+" query "+tg.RefID, tg.Datasource)
		}
	}
	for _, v := range d.Templating.List {
		if v.Type == "query" {
			check("variable "+v.Name, v.Datasource)
		}
	}
}

func TestDashboardQueries(t *testing.T) {
	d := loadDashboard(t)
	known := knownLokiNames()
	selector := regexp.MustCompile(`\{\s*service_name\s*=~?\s*"\$service"\s*\}`)
	for _, p := range d.allPanels() {
		for _, tg := range p.Targets {
			where := "panel " + strconv.Quote(p.Title) + " query " + tg.RefID
			if strings.TrimSpace(tg.Expr) == "" {
				t.Errorf("%s: empty expr", where)
				continue
			}
			if !selector.MatchString(tg.Expr) {
				t.Errorf("%s: %q does not select {service_name=\"$service\"}", where, tg.Expr)
			}
			if strings.Count(tg.Expr, "(") != strings.Count(tg.Expr, ")") || strings.Count(tg.Expr, "{") != strings.Count(tg.Expr, "}") {
				t.Errorf("%s: unbalanced brackets in %q", where, tg.Expr)
			}
			for _, n := range logqlNames(tg.Expr) {
				if !known[n] {
					t.Errorf("%s: %q refers to %q, which no audit record carries in Loki", where, tg.Expr, n)
				}
			}
			if tg.QueryType != "range" && tg.QueryType != "instant" {
				t.Errorf("%s: queryType %q, want range or instant", where, tg.QueryType)
			}
		}
	}
}

func TestDashboardPanels(t *testing.T) {
	d := loadDashboard(t)
	tests := []struct {
		title     string // a panel whose title contains this
		typ       string
		names     []string // names its query must use
		fragments []string // text its query must contain
	}{
		{title: "events over time", typ: "timeseries", names: []string{"event_name"}, fragments: []string{"by (event_name)", "count_over_time"}},
		{title: "Failures by user", typ: "bargauge", names: []string{"user_name", "audit_success"}, fragments: []string{`audit_success="false"`, "by (user_name)"}},
		{title: "Failures by client IP", typ: "bargauge", names: []string{"client_address", "audit_success"}, fragments: []string{`audit_success="false"`, "by (client_address)"}},
		{title: "Latest audit events", typ: "table", names: []string{"service_name"}},
	}
	panels := d.allPanels()
	for _, tc := range tests {
		t.Run(tc.title, func(t *testing.T) {
			i := slices.IndexFunc(panels, func(p panel) bool { return strings.Contains(p.Title, tc.title) })
			if i < 0 {
				t.Fatalf("no panel titled *%s*", tc.title)
			}
			p := panels[i]
			if p.Type != tc.typ {
				t.Errorf("type %q, want %q", p.Type, tc.typ)
			}
			var exprs []string
			for _, tg := range p.Targets {
				exprs = append(exprs, tg.Expr)
			}
			all := strings.Join(exprs, "\n")
			used := logqlNames(all)
			for _, n := range tc.names {
				if !slices.Contains(used, n) {
					t.Errorf("query %q does not use %s", all, n)
				}
			}
			for _, f := range tc.fragments {
				if !strings.Contains(strings.Join(strings.Fields(all), " "), f) {
					t.Errorf("query %q lacks %q", all, f)
				}
			}
		})
	}
}

func TestDashboardLatestEventsColumns(t *testing.T) {
	d := loadDashboard(t)
	known := knownLokiNames()
	panels := d.allPanels()
	i := slices.IndexFunc(panels, func(p panel) bool { return p.Type == "table" })
	if i < 0 {
		t.Fatal("no table panel")
	}
	p := panels[i]
	var include []string
	for _, tr := range p.Transformations {
		if tr.ID != "filterFieldsByName" {
			continue
		}
		var opt struct {
			Include struct {
				Names []string `json:"names"`
			} `json:"include"`
		}
		if err := json.Unmarshal(tr.Options, &opt); err != nil {
			t.Fatalf("filterFieldsByName options: %v", err)
		}
		include = opt.Include.Names
	}
	if !slices.ContainsFunc(p.Transformations, func(tr transformation) bool { return tr.ID == "extractFields" }) {
		t.Error("table does not extract the labels field (extractFields)")
	}
	// time, event, user, IP, method, path, status
	want := []string{"event_name", "user_name", "client_address", "http_request_method", "url_path", "http_response_status_code"}
	for _, w := range want {
		if !slices.Contains(include, w) {
			t.Errorf("table columns %q lack %s", include, w)
		}
	}
	if !slices.Contains(include, "Time") {
		t.Errorf("table columns %q lack Time", include)
	}
	for _, n := range include {
		if n != "Time" && n != "timestamp" && !known[n] {
			t.Errorf("table column %q is no name an audit record carries in Loki", n)
		}
	}
}

func TestDashboardLayout(t *testing.T) {
	d := loadDashboard(t)
	if d.UID == "" || d.Title == "" {
		t.Errorf("dashboard needs a uid and a title (uid %q, title %q)", d.UID, d.Title)
	}
	ids := map[int]string{}
	type cell struct{ x, y int }
	taken := map[cell]string{}
	for _, p := range d.allPanels() {
		if prev, ok := ids[p.ID]; ok {
			t.Errorf("panels %q and %q share id %d", prev, p.Title, p.ID)
		}
		ids[p.ID] = p.Title
		g := p.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.Y < 0 || g.X+g.W > 24 {
			t.Errorf("panel %q: gridPos %+v outside the 24-column grid", p.Title, g)
			continue
		}
		for x := g.X; x < g.X+g.W; x++ {
			for y := g.Y; y < g.Y+g.H; y++ {
				if prev, ok := taken[cell{x, y}]; ok {
					t.Errorf("panels %q and %q overlap at (%d,%d)", prev, p.Title, x, y)
					break
				}
				taken[cell{x, y}] = p.Title
			}
		}
	}
}

func TestDashboardServiceVariable(t *testing.T) {
	d := loadDashboard(t)
	i := slices.IndexFunc(d.Templating.List, func(v variable) bool { return v.Name == "service" })
	if i < 0 {
		t.Fatal("no template variable named service")
	}
	v := d.Templating.List[i]
	if v.Type != "query" {
		t.Errorf("variable service: type %q, want query", v.Type)
	}
	var q struct {
		Label string `json:"label"`
		Type  int    `json:"type"`
	}
	if err := json.Unmarshal(v.Query, &q); err != nil {
		t.Fatalf("variable service: query: %v", err)
	}
	if q.Label != "service_name" || q.Type != 1 {
		t.Errorf("variable service: query %s, want label values (type 1) of service_name", v.Query)
	}
	if v.Current.Value != demoServiceName {
		t.Errorf("variable service defaults to %v, want %q (the demo's OTEL_SERVICE_NAME)", v.Current.Value, demoServiceName)
	}
}

func TestGrafanaProvisioning(t *testing.T) {
	p := loadCompose(t)
	svc, ok := p.Services["grafana"]
	if !ok {
		t.Fatal("no grafana service")
	}
	uid, rawURL := provisionedLoki(t)
	if uid == "" {
		t.Fatal("empty uid")
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("loki data source url %q: %v", rawURL, err)
	}
	if _, ok := p.Services[u.Hostname()]; !ok {
		t.Errorf("loki data source points at host %q, which is no compose service", u.Hostname())
	}
	if want := strconv.Itoa(loadLokiConfig(t).Server.HTTPListenPort); u.Port() != want {
		t.Errorf("loki data source port %q, Loki listens on %s", u.Port(), want)
	}

	// The provisioning folder is mounted where Grafana looks for it.
	prov, ok := mountAt(t, "grafana", svc, "/etc/grafana/provisioning")
	if !ok {
		t.Fatal("examples/grafana/provisioning is not mounted at /etc/grafana/provisioning")
	}
	provDir := bindSource(prov)
	for _, f := range []string{datasourceFile, dashboardsProvFile} {
		if !strings.HasPrefix(f, provDir+"/") {
			t.Errorf("%s is not inside the mounted provisioning folder %s", f, provDir)
		}
	}

	// The dashboard provider reads a mounted folder that holds the dashboard.
	var dp dashboardProvisioning
	loadYAML(t, dashboardsProvFile, &dp)
	if len(dp.Providers) == 0 {
		t.Fatalf("%s: no providers", dashboardsProvFile)
	}
	for _, pr := range dp.Providers {
		if pr.Type != "file" {
			t.Errorf("provider %s: type %q, want file", pr.Name, pr.Type)
			continue
		}
		m, ok := mountAt(t, "grafana", svc, pr.Options.Path)
		if !ok {
			t.Errorf("provider %s reads %s, which is not mounted", pr.Name, pr.Options.Path)
			continue
		}
		if got := path.Join(bindSource(m), path.Base(dashboardFile)); got != dashboardFile {
			t.Errorf("provider %s reads %s, which does not hold %s", pr.Name, bindSource(m), dashboardFile)
		}
	}
	if home := svc.Environment["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]; home != "" {
		dir, file := path.Split(home)
		m, ok := mountAt(t, "grafana", svc, dir)
		if !ok || path.Join(bindSource(m), file) != dashboardFile {
			t.Errorf("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH %s is not %s in the container", home, dashboardFile)
		}
	}
}
