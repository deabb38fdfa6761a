package siem_test

// The validator: OCSF 1.8.0 and ECS 9.4.0, read from their official sources
// in ../shared/siem beside the clone (see its README). It checks what a
// consumer sees: the JSON form of an event or document.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// sharedSiem returns ../shared/siem relative to the repository root, or
// skips the test when it is absent.
func sharedSiem(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(wd) // siem's parent is the repository root
	dir := filepath.Join(root, "..", "shared", "siem")
	if _, err := os.Stat(filepath.Join(dir, "ocsf-schema-1.8.0", "dictionary.json")); err != nil {
		t.Skipf("the official OCSF and ECS sources are not at %s (CI puts shared/siem beside the clone; see its README): %v", dir, err)
	}
	return dir
}

// toJSON returns v as a consumer decodes it: marshalled, then decoded
// with numbers kept as json.Number.
func toJSON(t testing.TB, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// ---- OCSF ----

// attr is an attribute as a class or object defines it, merged with the
// dictionary.
type attr struct {
	Type        string
	IsArray     bool
	Requirement string
	Enum        map[string]string // value -> caption
	Sibling     string
	Profile     string // the profile that brings it, "" for the class's own
}

type ocsfType struct {
	Base   string // string_t, integer_t, long_t, float_t, boolean_t, json_t
	Regex  *regexp.Regexp
	MaxLen int
	Range  []float64
}

type ocsfObject struct {
	Name       string
	Caption    string
	UID        int
	Category   string
	Attrs      map[string]*attr
	AtLeastOne []string
	JustOne    []string
}

type ocsfSchema struct {
	root       string
	dict       map[string]map[string]any
	types      map[string]ocsfType
	categories map[string]struct {
		UID     int
		Caption string
	}
	rawObjects map[string]map[string]any
	rawClasses map[string]map[string]any
	objects    map[string]*ocsfObject
	classes    map[int]*ocsfObject
}

var (
	ocsfOnce sync.Once
	ocsfS    *ocsfSchema
	ocsfErr  error
)

func loadOCSF(t testing.TB) *ocsfSchema {
	t.Helper()
	dir := filepath.Join(sharedSiem(t), "ocsf-schema-1.8.0")
	ocsfOnce.Do(func() { ocsfS, ocsfErr = readOCSF(dir) })
	if ocsfErr != nil {
		t.Fatalf("reading the OCSF schema source: %v", ocsfErr)
	}
	return ocsfS
}

func readJSON(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

func readOCSF(dir string) (*ocsfSchema, error) {
	s := &ocsfSchema{root: dir, dict: map[string]map[string]any{}, types: map[string]ocsfType{},
		rawObjects: map[string]map[string]any{}, rawClasses: map[string]map[string]any{},
		objects: map[string]*ocsfObject{}, classes: map[int]*ocsfObject{}}
	s.categories = map[string]struct {
		UID     int
		Caption string
	}{}
	d, err := readJSON(filepath.Join(dir, "dictionary.json"))
	if err != nil {
		return nil, err
	}
	for k, v := range d["attributes"].(map[string]any) {
		s.dict[k] = v.(map[string]any)
	}
	rawTypes := d["types"].(map[string]any)["attributes"].(map[string]any)
	for name := range rawTypes {
		var ty ocsfType
		// follow "type" to the base type; the regex and limits are the
		// derived type's own
		v := rawTypes[name].(map[string]any)
		ty.Base = name
		if b, ok := v["type"].(string); ok {
			ty.Base = b
			if bb, ok := rawTypes[b].(map[string]any)["type"].(string); ok {
				ty.Base = bb
			}
		}
		if re, ok := v["regex"].(string); ok {
			r, err := regexp.Compile(re)
			if err != nil {
				return nil, fmt.Errorf("type %s: regex: %w", name, err)
			}
			ty.Regex = r
		}
		if n, ok := v["max_len"].(float64); ok {
			ty.MaxLen = int(n)
		}
		if r, ok := v["range"].([]any); ok {
			ty.Range = []float64{r[0].(float64), r[1].(float64)}
		}
		s.types[name] = ty
	}
	c, err := readJSON(filepath.Join(dir, "categories.json"))
	if err != nil {
		return nil, err
	}
	for k, v := range c["attributes"].(map[string]any) {
		m := v.(map[string]any)
		s.categories[k] = struct {
			UID     int
			Caption string
		}{int(m["uid"].(float64)), m["caption"].(string)}
	}
	walk := func(sub string, into map[string]map[string]any) error {
		return filepath.WalkDir(filepath.Join(dir, sub), func(p string, de fs.DirEntry, err error) error {
			if err != nil || de.IsDir() || !strings.HasSuffix(p, ".json") {
				return err
			}
			m, err := readJSON(p)
			if err != nil {
				return err
			}
			into[m["name"].(string)] = m
			return nil
		})
	}
	if err := walk("objects", s.rawObjects); err != nil {
		return nil, err
	}
	if err := walk("events", s.rawClasses); err != nil {
		return nil, err
	}
	for name := range s.rawClasses {
		o, err := s.resolve(name, s.rawClasses, map[string]bool{})
		if err != nil {
			return nil, err
		}
		if o.UID != 0 || name == "base_event" {
			cat, ok := s.categories[o.Category]
			uid := o.UID
			if ok {
				uid = cat.UID*1000 + o.UID
			}
			if _, leaf := s.rawClasses[name]["uid"]; leaf {
				// As the OCSF server does: a class's class_uid and
				// category_uid take the class's own values.
				if ok {
					o.Attrs["category_uid"].Enum = map[string]string{strconv.Itoa(cat.UID): cat.Caption}
				}
				o.Attrs["class_uid"].Enum = map[string]string{strconv.Itoa(uid): o.Caption}
				s.classes[uid] = o
			}
		}
	}
	return s, nil
}

// resolve merges a class or object with what it extends and includes.
func (s *ocsfSchema) resolve(name string, raw map[string]map[string]any, seen map[string]bool) (*ocsfObject, error) {
	m, ok := raw[name]
	if !ok {
		return nil, fmt.Errorf("%q is not defined", name)
	}
	if seen[name] {
		return nil, fmt.Errorf("%q extends itself", name)
	}
	seen[name] = true
	o := &ocsfObject{Name: name, Attrs: map[string]*attr{}}
	if ext, ok := m["extends"].(string); ok {
		parent, err := s.resolve(ext, raw, seen)
		if err != nil {
			return nil, fmt.Errorf("%s extends: %w", name, err)
		}
		o.Category = parent.Category
		for k, a := range parent.Attrs {
			c := *a
			c.Enum = maps.Clone(a.Enum)
			o.Attrs[k] = &c
		}
		o.AtLeastOne, o.JustOne = parent.AtLeastOne, parent.JustOne
	}
	if c, ok := m["caption"].(string); ok {
		o.Caption = c
	}
	if u, ok := m["uid"].(float64); ok {
		o.UID = int(u)
	}
	if c, ok := m["category"].(string); ok {
		o.Category = c
	}
	attrs, _ := m["attributes"].(map[string]any)
	if inc, ok := attrs["$include"].([]any); ok {
		for _, p := range inc {
			im, err := readJSON(filepath.Join(s.root, p.(string)))
			if err != nil {
				return nil, fmt.Errorf("%s $include: %w", name, err)
			}
			profile := ""
			if im["meta"] == "profile" {
				profile = im["name"].(string)
			}
			for k, v := range im["attributes"].(map[string]any) {
				if err := s.merge(o, k, v.(map[string]any), profile); err != nil {
					return nil, err
				}
			}
		}
	}
	for k, v := range attrs {
		if k == "$include" {
			continue
		}
		if err := s.merge(o, k, v.(map[string]any), ""); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	if cons, ok := m["constraints"].(map[string]any); ok {
		if l, ok := cons["at_least_one"].([]any); ok {
			o.AtLeastOne = nil
			for _, x := range l {
				o.AtLeastOne = append(o.AtLeastOne, x.(string))
			}
		}
		if l, ok := cons["just_one"].([]any); ok {
			o.JustOne = nil
			for _, x := range l {
				o.JustOne = append(o.JustOne, x.(string))
			}
		}
	}
	return o, nil
}

// merge adds (or refines) attribute k of o: the dictionary's definition,
// then the inherited one, then v. Enums add up; "profile": null makes an
// included attribute the class's own.
func (s *ocsfSchema) merge(o *ocsfObject, k string, v map[string]any, profile string) error {
	a, ok := o.Attrs[k]
	if !ok {
		dict, ok := s.dict[k]
		if !ok {
			return fmt.Errorf("attribute %q is not in the dictionary", k)
		}
		a = &attr{Enum: map[string]string{}, Profile: profile}
		a.Type, _ = dict["type"].(string)
		a.IsArray, _ = dict["is_array"].(bool)
		a.Sibling, _ = dict["sibling"].(string)
		addEnum(a, dict)
		o.Attrs[k] = a
	}
	// "profile": null makes an attribute a profile brought the class's own;
	// an attribute the class already has stays its own when a profile
	// includes it again.
	if p, ok := v["profile"]; ok && p == nil {
		a.Profile = ""
	}
	if r, ok := v["requirement"].(string); ok {
		a.Requirement = r
	}
	if t, ok := v["type"].(string); ok {
		a.Type = t
	}
	if t, ok := v["is_array"].(bool); ok {
		a.IsArray = t
	}
	addEnum(a, v)
	return nil
}

func addEnum(a *attr, v map[string]any) {
	e, ok := v["enum"].(map[string]any)
	if !ok {
		return
	}
	for val, d := range e {
		cap, _ := d.(map[string]any)["caption"].(string)
		a.Enum[val] = cap
	}
}

// object returns the resolved object name.
func (s *ocsfSchema) object(name string) (*ocsfObject, error) {
	if o, ok := s.objects[name]; ok {
		return o, nil
	}
	o, err := s.resolve(name, s.rawObjects, map[string]bool{})
	if err != nil {
		return nil, err
	}
	s.objects[name] = o
	return o, nil
}

var ocsfMu sync.Mutex

// validateOCSF returns every way event breaks OCSF 1.8.0.
func validateOCSF(t testing.TB, event map[string]any) []string {
	s := loadOCSF(t)
	ocsfMu.Lock()
	defer ocsfMu.Unlock()
	e := toJSON(t, event)
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	num := func(k string) int64 {
		n, ok := e[k].(json.Number)
		if !ok {
			return math.MinInt64
		}
		i, err := n.Int64()
		if err != nil {
			return math.MinInt64
		}
		return i
	}
	classUID, catUID, actID, typeUID := num("class_uid"), num("category_uid"), num("activity_id"), num("type_uid")
	class, ok := s.classes[int(classUID)]
	if !ok {
		return []string{fmt.Sprintf("class_uid %v is not a class of OCSF 1.8.0", e["class_uid"])}
	}
	cat := s.categories[class.Category]
	if catUID != int64(cat.UID) {
		bad("category_uid %d, want %d (%s) for class %d", catUID, cat.UID, class.Category, classUID)
	}
	if classUID != int64(cat.UID*1000+class.UID) {
		bad("class_uid %d is not category %d × 1000 + class %d", classUID, cat.UID, class.UID)
	}
	if typeUID != classUID*100+actID {
		bad("type_uid %d is not class_uid %d × 100 + activity_id %d", typeUID, classUID, actID)
	}
	if v, ok := e["class_name"]; ok && v != class.Caption {
		bad("class_name %q, want %q", v, class.Caption)
	}
	if v, ok := e["category_name"]; ok && v != cat.Caption {
		bad("category_name %q, want %q", v, cat.Caption)
	}
	if v, ok := e["type_name"].(string); ok {
		act := class.Attrs["activity_id"].Enum[strconv.FormatInt(actID, 10)]
		if want := class.Caption + ": " + act; v != want {
			bad("type_name %q, want %q", v, want)
		}
	}
	meta, _ := e["metadata"].(map[string]any)
	if meta["version"] != "1.8.0" {
		bad("metadata.version %v, want 1.8.0", meta["version"])
	}
	profiles := map[string]bool{}
	if ps, ok := meta["profiles"].([]any); ok {
		for _, p := range ps {
			name, _ := p.(string)
			if _, err := os.Stat(filepath.Join(s.root, "profiles", name+".json")); err != nil {
				bad("metadata.profiles lists %q, not a profile of OCSF 1.8.0", name)
			}
			profiles[name] = true
		}
	}
	s.check(class, e, "", profiles, bad)
	return errs
}

// check validates object value v of definition o at path.
func (s *ocsfSchema) check(o *ocsfObject, v map[string]any, path string, profiles map[string]bool, bad func(string, ...any)) {
	allowed := func(a *attr) bool { return a.Profile == "" || profiles[a.Profile] }
	for _, k := range slices.Sorted(maps.Keys(o.Attrs)) {
		a := o.Attrs[k]
		if a.Requirement == "required" && allowed(a) {
			if _, ok := v[k]; !ok {
				bad("%s%s is required by %s", path, k, o.Name)
			}
		}
	}
	if len(o.AtLeastOne) > 0 {
		n := 0
		for _, k := range o.AtLeastOne {
			if _, ok := v[k]; ok {
				n++
			}
		}
		if n == 0 {
			bad("%s: %s needs at least one of %v", strings.TrimSuffix(path, "."), o.Name, o.AtLeastOne)
		}
	}
	if len(o.JustOne) > 0 {
		n := 0
		for _, k := range o.JustOne {
			if _, ok := v[k]; ok {
				n++
			}
		}
		if n != 1 {
			bad("%s: %s needs exactly one of %v", strings.TrimSuffix(path, "."), o.Name, o.JustOne)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(v)) {
		val := v[k]
		a, ok := o.Attrs[k]
		if !ok && profiles["datetime"] && strings.HasSuffix(k, "_dt") {
			// The datetime profile: the OCSF server adds X_dt (datetime_t)
			// beside every timestamp_t attribute X.
			if base, ok := o.Attrs[strings.TrimSuffix(k, "_dt")]; ok && base.Type == "timestamp_t" {
				a = &attr{Type: "datetime_t"}
			}
		}
		if a == nil {
			bad("%s%s is not an attribute of %s", path, k, o.Name)
			continue
		}
		if !allowed(a) {
			bad("%s%s belongs to the %s profile, which metadata.profiles does not list", path, k, a.Profile)
		}
		if a.IsArray {
			arr, ok := val.([]any)
			if !ok {
				bad("%s%s is %T, want an array", path, k, val)
				continue
			}
			for i, x := range arr {
				s.value(a, x, fmt.Sprintf("%s%s[%d]", path, k, i), profiles, bad)
			}
			continue
		}
		s.value(a, val, path+k, profiles, bad)
		if len(a.Enum) > 0 && a.Sibling != "" {
			id := fmt.Sprint(val)
			sib, has := v[a.Sibling]
			if id == "99" && !has {
				bad("%s%s is 99 (Other): %s%s must hold the source's value", path, k, path, a.Sibling)
			}
			if cap, known := a.Enum[id]; has && known && id != "99" && sib != cap {
				bad("%s%s is %q, want %q (the caption of %s %s)", path, a.Sibling, sib, cap, k, id)
			}
		}
	}
}

// value validates one value of attribute a.
func (s *ocsfSchema) value(a *attr, val any, path string, profiles map[string]bool, bad func(string, ...any)) {
	if len(a.Enum) > 0 {
		if _, ok := a.Enum[fmt.Sprint(val)]; !ok {
			bad("%s = %v is not one of its enum values %v", path, val, slices.Sorted(maps.Keys(a.Enum)))
		}
	}
	if ty, ok := s.types[a.Type]; ok {
		switch ty.Base {
		case "string_t":
			str, ok := val.(string)
			if !ok {
				bad("%s is %T, want a string (%s)", path, val, a.Type)
				return
			}
			if ty.MaxLen > 0 && len(str) > ty.MaxLen {
				bad("%s is longer than %s's %d", path, a.Type, ty.MaxLen)
			}
			if ty.Regex != nil && !ty.Regex.MatchString(str) {
				bad("%s = %q is not a valid %s", path, str, a.Type)
			}
		case "integer_t", "long_t":
			n, ok := val.(json.Number)
			if !ok {
				bad("%s is %T, want an integer (%s)", path, val, a.Type)
				return
			}
			i, err := n.Int64()
			if err != nil {
				bad("%s = %s is not an integer (%s)", path, n, a.Type)
				return
			}
			if ty.Base == "integer_t" && (i < math.MinInt32 || i > math.MaxInt32) {
				bad("%s = %d does not fit a 32-bit integer_t", path, i)
			}
			if len(ty.Range) == 2 && (float64(i) < ty.Range[0] || float64(i) > ty.Range[1]) {
				bad("%s = %d is outside %s's range %v", path, i, a.Type, ty.Range)
			}
			if a.Type == "timestamp_t" && (i < 946684800000 || i > 4102444800000) {
				bad("%s = %d is not epoch milliseconds between 2000 and 2100", path, i)
			}
		case "float_t":
			if _, ok := val.(json.Number); !ok {
				bad("%s is %T, want a number", path, val)
			}
		case "boolean_t":
			if _, ok := val.(bool); !ok {
				bad("%s is %T, want a boolean", path, val)
			}
		case "json_t":
		default:
			bad("%s: unknown base type %s", path, ty.Base)
		}
		return
	}
	if a.Type == "object" { // the generic object: unmapped
		if _, ok := val.(map[string]any); !ok {
			bad("%s is %T, want an object", path, val)
		}
		return
	}
	obj, err := s.object(a.Type)
	if err != nil {
		bad("%s: type %s: %v", path, a.Type, err)
		return
	}
	m, ok := val.(map[string]any)
	if !ok {
		bad("%s is %T, want a %s object", path, val, a.Type)
		return
	}
	s.check(obj, m, path+".", profiles, bad)
}

// ---- ECS ----

type ecsField struct {
	Type       string   `yaml:"type"`
	Normalize  []string `yaml:"normalize"`
	ObjectType string   `yaml:"object_type"`
	Allowed    []struct {
		Name     string   `yaml:"name"`
		Expected []string `yaml:"expected_event_types"`
	} `yaml:"allowed_values"`
}

var (
	ecsOnce   sync.Once
	ecsFields map[string]ecsField
	ecsErr    error
)

func loadECS(t testing.TB) map[string]ecsField {
	t.Helper()
	path := filepath.Join(sharedSiem(t), "ecs-9.4.0", "ecs_flat.yml")
	ecsOnce.Do(func() {
		b, err := os.ReadFile(path)
		if err != nil {
			ecsErr = err
			return
		}
		ecsErr = yaml.Unmarshal(b, &ecsFields)
	})
	if ecsErr != nil {
		t.Fatalf("reading %s: %v", path, ecsErr)
	}
	return ecsFields
}

// validateECS returns every way doc (nested objects) breaks ECS 9.4.0.
// Fields under psono. are the custom namespace: no ECS field may start so,
// and their values are strings.
func validateECS(t testing.TB, doc map[string]any) []string {
	fields := loadECS(t)
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	flat := map[string]any{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			if strings.Contains(k, ".") {
				bad("%s%s: a dotted key inside an object", prefix, k)
			}
			name := prefix + k
			if sub, ok := v.(map[string]any); ok {
				if f, ok := fields[name]; ok && f.Type == "object" && f.ObjectType != "" {
					flat[name] = v
					continue
				}
				walk(name+".", sub)
				continue
			}
			flat[name] = v
		}
	}
	walk("", toJSON(t, doc))
	for _, name := range slices.Sorted(maps.Keys(flat)) {
		v := flat[name]
		if strings.HasPrefix(name, "psono.") {
			if _, ok := v.(string); !ok {
				bad("%s (custom) is %T, want a string", name, v)
			}
			continue
		}
		f, ok := fields[name]
		if !ok {
			bad("%s is not a field of ECS 9.4.0", name)
			continue
		}
		var vals []any
		if slices.Contains(f.Normalize, "array") {
			arr, ok := v.([]any)
			if !ok {
				bad("%s is %T; ECS normalizes it to an array", name, v)
				continue
			}
			vals = arr
		} else {
			if _, ok := v.([]any); ok {
				bad("%s is an array; ECS keeps it a single value", name)
				continue
			}
			vals = []any{v}
		}
		for _, x := range vals {
			ecsValue(name, f, x, bad)
		}
	}
	// event.type must be expected by one of event.category's values.
	if cats, ok := flat["event.category"].([]any); ok {
		expected := map[string]bool{}
		for _, c := range cats {
			for _, a := range fields["event.category"].Allowed {
				if a.Name == c {
					for _, e := range a.Expected {
						expected[e] = true
					}
				}
			}
		}
		if types, ok := flat["event.type"].([]any); ok {
			for _, ty := range types {
				if !expected[fmt.Sprint(ty)] {
					bad("event.type %v is not expected with event.category %v", ty, cats)
				}
			}
		}
	}
	for name := range fields {
		if strings.HasPrefix(name, "psono.") {
			bad("ECS defines %s: the custom namespace psono collides", name)
		}
	}
	return errs
}

func ecsValue(name string, f ecsField, v any, bad func(string, ...any)) {
	switch f.Type {
	case "keyword", "wildcard", "match_only_text", "constant_keyword", "text":
		if _, ok := v.(string); !ok {
			bad("%s is %T, want a string (%s)", name, v, f.Type)
			return
		}
	case "long", "integer":
		n, ok := v.(json.Number)
		if !ok {
			bad("%s is %T, want an integer (%s)", name, v, f.Type)
			return
		}
		i, err := n.Int64()
		if err != nil || (f.Type == "integer" && (i < math.MinInt32 || i > math.MaxInt32)) {
			bad("%s = %s is not a valid %s", name, n, f.Type)
		}
	case "date":
		s, ok := v.(string)
		if !ok {
			bad("%s is %T, want an RFC 3339 string", name, v)
			return
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			bad("%s = %q is not RFC 3339 with a zone: %v", name, s, err)
		}
	case "ip":
		s, ok := v.(string)
		if !ok {
			bad("%s is %T, want an IP string", name, v)
			return
		}
		if a, err := netip.ParseAddr(s); err != nil || a.Zone() != "" {
			bad("%s = %q is not an IP address Elasticsearch's ip type takes", name, s)
		}
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			bad("%s is %T, want an object", name, v)
			return
		}
		for k, x := range m {
			if _, ok := x.(string); !ok && f.ObjectType == "keyword" {
				bad("%s.%s is %T, want a string", name, k, x)
			}
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			bad("%s is %T, want a boolean", name, v)
		}
	default:
		bad("%s: type %s is not checked by this validator", name, f.Type)
	}
	if len(f.Allowed) > 0 {
		names := make([]string, len(f.Allowed))
		for i, a := range f.Allowed {
			names[i] = a.Name
		}
		if !slices.Contains(names, fmt.Sprint(v)) {
			sort.Strings(names)
			bad("%s = %v is not one of its allowed values %v", name, v, names)
		}
	}
}
