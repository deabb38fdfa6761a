package spool

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"sync"
	"time"
	"unsafe"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelaudit/otelaudit/psono"
)

// The stored form of a record (one value of the records bucket):
//
//	version   byte (1)
//	flags     byte (flagCheckpoint)
//	tree      uvarint: psono.LogTree + 1, 0 when the record has none
//	index     uvarint: psono.LogIndex + 1, 0 when the record has none
//	resource  8 bytes: the key of its resource in the resources bucket
//	scope     string name, string version, string schema URL
//	timestamp varint ns since the epoch, 0 for none
//	observed  varint ns since the epoch, 0 for none
//	severity  varint, severity text string
//	event     string
//	body      value
//	trace     16 bytes trace id, 8 bytes span id, 1 byte flags
//	attrs     uvarint count, then key string and value each
//
// A string is a uvarint length and its bytes; a value is a type byte
// (attribute.Type) and its payload. Every field of an sdklog.Record the OTLP
// exporters send is kept, typed: nothing goes through text.
const codecVersion = 1

const flagCheckpoint = 1

// header is the part of a stored record read without decoding the rest:
// what the budget's dropping and the drop record need.
type header struct {
	checkpoint  bool
	tree, index int64 // -1 when the record carries no position
}

// resourceKey returns the key of res in the resources bucket and its stored
// form (attributes and schema URL, encoded as a record's attributes are).
func encodeResource(res *resource.Resource) (key [8]byte, enc []byte) {
	enc = appendString(enc, res.SchemaURL())
	attrs := res.Attributes()
	enc = binary.AppendUvarint(enc, uint64(len(attrs)))
	for _, kv := range attrs {
		enc = appendString(enc, string(kv.Key))
		enc = appendValue(enc, kv.Value)
	}
	h := fnv.New64a()
	_, _ = h.Write(enc)
	binary.BigEndian.PutUint64(key[:], h.Sum64())
	return key, enc
}

func decodeResource(b []byte) (*resource.Resource, error) {
	d := decoder{b: b}
	schema := d.string()
	n := d.uvarint()
	attrs := make([]attribute.KeyValue, 0, min(n, 1024))
	for i := uint64(0); i < n && d.err == nil; i++ {
		k := d.string()
		attrs = append(attrs, attribute.KeyValue{Key: attribute.Key(k), Value: d.value(0)})
	}
	if d.err != nil {
		return nil, d.err
	}
	return resource.NewWithAttributes(schema, attrs...), nil
}

// encodeRecord appends the stored form of r to b; res is the key of r's
// resource.
func encodeRecord(b []byte, r *sdklog.Record, res [8]byte) []byte {
	b = append(b, codecVersion)
	var flags byte
	scope := r.InstrumentationScope()
	if psono.IsCheckpoint(r.EventName(), scope.Name) {
		flags |= flagCheckpoint
	}
	b = append(b, flags)
	tree, index := int64(-1), int64(-1)
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		switch kv.Key {
		case psono.LogTree:
			tree = kv.Value.AsInt64()
		case psono.LogIndex:
			index = kv.Value.AsInt64()
		}
		return true
	})
	if flags&flagCheckpoint != 0 {
		index = -1 // a checkpoint names the tree it covers, not a line
	}
	b = binary.AppendUvarint(b, uint64(tree+1))
	b = binary.AppendUvarint(b, uint64(index+1))
	b = append(b, res[:]...)
	b = appendString(b, scope.Name)
	b = appendString(b, scope.Version)
	b = appendString(b, scope.SchemaURL)
	b = binary.AppendVarint(b, unixNano(r.Timestamp()))
	b = binary.AppendVarint(b, unixNano(r.ObservedTimestamp()))
	b = binary.AppendVarint(b, int64(r.Severity()))
	b = appendString(b, r.SeverityText())
	b = appendString(b, r.EventName())
	b = appendValue(b, r.Body())
	tid, sid := r.TraceID(), r.SpanID()
	b = append(b, tid[:]...)
	b = append(b, sid[:]...)
	b = append(b, byte(r.TraceFlags()))
	b = binary.AppendUvarint(b, uint64(r.AttributesLen()))
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		b = appendString(b, string(kv.Key))
		b = appendValue(b, kv.Value)
		return true
	})
	return b
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// decodeHeader reads the header of a stored record.
func decodeHeader(b []byte) (header, error) {
	d := decoder{b: b}
	if v := d.byte(); v != codecVersion && d.err == nil {
		return header{}, fmt.Errorf("spool: stored record of version %d, want %d", v, codecVersion)
	}
	flags := d.byte()
	tree := int64(d.uvarint()) - 1
	index := int64(d.uvarint()) - 1
	return header{checkpoint: flags&flagCheckpoint != 0, tree: tree, index: index}, d.err
}

// storedRecord is a decoded stored record, ready to become an sdklog.Record.
type storedRecord struct {
	header
	resource     [8]byte
	scopeName    string
	scopeVersion string
	scopeSchema  string
	timestamp    time.Time
	observed     time.Time
	severity     log.Severity
	severityText string
	event        string
	body         attribute.Value
	traceID      trace.TraceID
	spanID       trace.SpanID
	traceFlags   trace.TraceFlags
	attrs        []attribute.KeyValue
}

// decodeRecord decodes a stored record into s. The names it holds (scope,
// event, severity text, attribute keys) come from in when in has them, and
// are added to it, so that the records of a batch share them; in may be
// nil. The attributes are appended to attrs[:0] (s.attrs is that slice).
// With alias, the other strings it holds (string values) are not copies
// but point into b, which must then never change (see Spool.read).
func decodeRecord(s *storedRecord, b []byte, in interner, attrs []attribute.KeyValue, alias bool) error {
	*s = storedRecord{}
	var err error
	if s.header, err = decodeHeader(b); err != nil {
		return err
	}
	d := decoder{b: b, names: in, alias: alias}
	d.byte()
	d.byte()
	d.uvarint()
	d.uvarint()
	copy(s.resource[:], d.bytes(8))
	s.scopeName, s.scopeVersion, s.scopeSchema = d.name(), d.name(), d.name()
	s.timestamp = fromUnixNano(d.varint())
	s.observed = fromUnixNano(d.varint())
	s.severity = log.Severity(d.varint())
	s.severityText = d.name()
	s.event = d.name()
	s.body = d.value(0)
	copy(s.traceID[:], d.bytes(16))
	copy(s.spanID[:], d.bytes(8))
	s.traceFlags = trace.TraceFlags(d.byte())
	n := d.count()
	s.attrs = attrs[:0]
	for i := 0; i < n && d.err == nil; i++ {
		k := d.name()
		s.attrs = append(s.attrs, attribute.KeyValue{Key: attribute.Key(k), Value: d.value(0)})
	}
	return d.err
}

// interner holds the names decoded before; it is cleared when it holds
// maxNames.
type interner map[string]string

const maxNames = 4096

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendValue appends v's type and payload.
func appendValue(b []byte, v attribute.Value) []byte {
	b = append(b, byte(v.Type()))
	switch v.Type() {
	case attribute.BOOL:
		if v.AsBool() {
			return append(b, 1)
		}
		return append(b, 0)
	case attribute.INT64:
		return binary.AppendVarint(b, v.AsInt64())
	case attribute.FLOAT64:
		return binary.BigEndian.AppendUint64(b, math.Float64bits(v.AsFloat64()))
	case attribute.STRING:
		return appendString(b, v.AsString())
	case attribute.BOOLSLICE:
		s := v.AsBoolSlice()
		b = binary.AppendUvarint(b, uint64(len(s)))
		for _, e := range s {
			if e {
				b = append(b, 1)
			} else {
				b = append(b, 0)
			}
		}
	case attribute.INT64SLICE:
		s := v.AsInt64Slice()
		b = binary.AppendUvarint(b, uint64(len(s)))
		for _, e := range s {
			b = binary.AppendVarint(b, e)
		}
	case attribute.FLOAT64SLICE:
		s := v.AsFloat64Slice()
		b = binary.AppendUvarint(b, uint64(len(s)))
		for _, e := range s {
			b = binary.BigEndian.AppendUint64(b, math.Float64bits(e))
		}
	case attribute.STRINGSLICE:
		s := v.AsStringSlice()
		b = binary.AppendUvarint(b, uint64(len(s)))
		for _, e := range s {
			b = appendString(b, e)
		}
	case attribute.BYTESLICE:
		s := v.AsByteSlice()
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	case attribute.SLICE:
		s := v.AsSlice()
		b = binary.AppendUvarint(b, uint64(len(s)))
		for _, e := range s {
			b = appendValue(b, e)
		}
	case attribute.MAP:
		s := v.AsMap()
		b = binary.AppendUvarint(b, uint64(len(s)))
		for _, kv := range s {
			b = appendString(b, string(kv.Key))
			b = appendValue(b, kv.Value)
		}
	}
	return b
}

var errCorrupt = errors.New("spool: stored record is cut short or corrupt")

// maxDepth bounds the nesting of stored values a decoder follows.
const maxDepth = 64

// decoder reads a stored form; the first error sticks and every later read
// returns a zero value.
type decoder struct {
	b     []byte
	err   error
	names interner // or nil
	alias bool     // strings point into b rather than copy it
}

func (d *decoder) fail() { d.err, d.b = errCorrupt, nil }

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) bytes(n int) []byte {
	if n < 0 || len(d.b) < n {
		d.fail()
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) { // every element takes a byte at least
		d.fail()
		return 0
	}
	return int(n)
}

func (d *decoder) string() string {
	n := d.count()
	b := d.bytes(n)
	if d.alias && len(b) > 0 {
		return unsafe.String(&b[0], len(b))
	}
	return string(b)
}

// name reads a string, taken from d.names when it is there.
func (d *decoder) name() string {
	b := d.bytes(d.count())
	if d.names == nil {
		return string(b)
	}
	if s, ok := d.names[string(b)]; ok {
		return s
	}
	if len(d.names) >= maxNames {
		clear(d.names)
	}
	s := string(b)
	d.names[s] = s
	return s
}

func (d *decoder) value(depth int) attribute.Value {
	if depth > maxDepth {
		d.fail()
		return attribute.Value{}
	}
	switch t := attribute.Type(d.byte()); t {
	case attribute.EMPTY:
		return attribute.Value{}
	case attribute.BOOL:
		return attribute.BoolValue(d.byte() != 0)
	case attribute.INT64:
		return attribute.Int64Value(d.varint())
	case attribute.FLOAT64:
		return attribute.Float64Value(math.Float64frombits(binary.BigEndian.Uint64(d.pad(8))))
	case attribute.STRING:
		return attribute.StringValue(d.string())
	case attribute.BOOLSLICE:
		s := make([]bool, d.count())
		for i := range s {
			s[i] = d.byte() != 0
		}
		return attribute.BoolSliceValue(s)
	case attribute.INT64SLICE:
		s := make([]int64, d.count())
		for i := range s {
			s[i] = d.varint()
		}
		return attribute.Int64SliceValue(s)
	case attribute.FLOAT64SLICE:
		s := make([]float64, d.count())
		for i := range s {
			s[i] = math.Float64frombits(binary.BigEndian.Uint64(d.pad(8)))
		}
		return attribute.Float64SliceValue(s)
	case attribute.STRINGSLICE:
		s := make([]string, d.count())
		for i := range s {
			s[i] = d.string()
		}
		return attribute.StringSliceValue(s)
	case attribute.BYTESLICE:
		n := d.count()
		return attribute.ByteSliceValue(d.bytes(n)) // a copy
	case attribute.SLICE:
		s := make([]attribute.Value, d.count())
		for i := range s {
			s[i] = d.value(depth + 1)
		}
		return attribute.SliceValue(s...)
	case attribute.MAP:
		s := make([]attribute.KeyValue, d.count())
		for i := range s {
			s[i].Key = attribute.Key(d.name())
			s[i].Value = d.value(depth + 1)
		}
		return attribute.MapValue(s...)
	default:
		if d.err == nil {
			d.err = fmt.Errorf("spool: stored value of unknown type %d", t)
			d.b = nil
		}
		return attribute.Value{}
	}
}

// pad returns n bytes, or n zero bytes after a failure.
func (d *decoder) pad(n int) []byte {
	if p := d.bytes(n); p != nil {
		return p
	}
	return make([]byte, n)
}

// rebuilder turns stored records back into sdklog.Records. An sdklog.Record
// takes its resource and scope from the Logger that emitted it, so each
// resource gets a LoggerProvider of its own (with no limits and no duplicate
// check: the stored attributes are exactly those the pipeline had), whose
// one processor keeps the record emitted. Each of its Loggers emits one
// empty record, once: the template, which every record of that resource and
// scope starts from (a copy, its fields then set, as the Logger would set
// them, without the Logger's way through its processors for each record).
// It is used by the sender's goroutine alone.
type rebuilder struct {
	mu        sync.Mutex
	providers map[[8]byte]*sdklog.LoggerProvider
	templates map[loggerKey]*sdklog.Record
	last      sdklog.Record
}

type loggerKey struct {
	res                   [8]byte
	name, version, schema string
}

func newRebuilder() *rebuilder {
	return &rebuilder{providers: map[[8]byte]*sdklog.LoggerProvider{}, templates: map[loggerKey]*sdklog.Record{}}
}

// template returns the empty record of s's resource and scope.
func (rb *rebuilder) template(s *storedRecord, res *resource.Resource) *sdklog.Record {
	k := loggerKey{s.resource, s.scopeName, s.scopeVersion, s.scopeSchema}
	if t, ok := rb.templates[k]; ok {
		return t
	}
	lp, ok := rb.providers[s.resource]
	if !ok {
		lp = sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(keepLast{rb}),
			sdklog.WithAllowKeyDuplication(), sdklog.WithAttributeCountLimit(-1), sdklog.WithAttributeValueLengthLimit(-1))
		rb.providers[s.resource] = lp
	}
	var opts []log.LoggerOption
	if s.scopeVersion != "" {
		opts = append(opts, log.WithInstrumentationVersion(s.scopeVersion))
	}
	if s.scopeSchema != "" {
		opts = append(opts, log.WithSchemaURL(s.scopeSchema))
	}
	var r log.Record
	r.SetObservedTimestamp(time.Unix(0, 1)) // not now: set for each record
	lp.Logger(s.scopeName, opts...).Emit(context.Background(), r)
	t := rb.last
	rb.last = sdklog.Record{}
	rb.templates[k] = &t
	return &t
}

// fill makes *out s as an sdklog.Record with resource res: s.attrs are
// its attributes (copied: the slice may be reused afterwards).
func (rb *rebuilder) fill(out *sdklog.Record, s *storedRecord, res *resource.Resource) {
	rb.mu.Lock()
	defer rb.mu.Unlock()
	*out = *rb.template(s, res)
	out.SetTimestamp(s.timestamp)
	observed := s.observed
	if observed.IsZero() {
		observed = time.Now() // as the Logger does
	}
	out.SetObservedTimestamp(observed)
	out.SetSeverity(s.severity)
	out.SetSeverityText(s.severityText)
	out.SetEventName(s.event)
	out.SetBody(s.body)
	out.SetAttributes(s.attrs...)
	out.SetTraceID(s.traceID)
	out.SetSpanID(s.spanID)
	out.SetTraceFlags(s.traceFlags)
}

func (rb *rebuilder) shutdown() {
	rb.mu.Lock()
	defer rb.mu.Unlock()
	for _, lp := range rb.providers {
		_ = lp.Shutdown(context.Background())
	}
}

// keepLast is the rebuilder's processor: it keeps a copy of the record
// emitted (rb.mu is held by the emitter).
type keepLast struct{ rb *rebuilder }

func (keepLast) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (k keepLast) OnEmit(_ context.Context, r *sdklog.Record) error {
	k.rb.last = r.Clone()
	return nil
}
func (keepLast) Shutdown(context.Context) error   { return nil }
func (keepLast) ForceFlush(context.Context) error { return nil }
