// Package otlpwire encodes sdk/log records straight into OTLP protobuf wire
// bytes and sends them to an OTLP/HTTP receiver.
//
// [AppendRequest] writes the ExportLogsServiceRequest that the standard
// go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp exporter
// would send for the same records (the same grouping by resource and
// instrumentation scope and the same fields), without building the
// generated protobuf structs first: a batch costs one pass over its records
// and a handful of allocations. [New] returns an sdklog.Exporter that posts
// those bytes, configured from the same OTEL_EXPORTER_OTLP_* environment
// variables as otlploghttp.
package otlpwire

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"google.golang.org/protobuf/encoding/protowire"
)

// Tags of the OTLP messages written here: field number << 3 | wire type.
// Field numbers are those of go.opentelemetry.io/proto/otlp (collector/logs/v1,
// logs/v1, resource/v1, common/v1); every one is below 16, so a tag is one
// byte.
const (
	wireVarint  = byte(protowire.VarintType)
	wireFixed64 = byte(protowire.Fixed64Type)
	wireBytes   = byte(protowire.BytesType)
	wireFixed32 = byte(protowire.Fixed32Type)

	// ExportLogsServiceRequest.
	tagRequestResourceLogs = 1<<3 | wireBytes

	// ResourceLogs.
	tagResourceLogsResource  = 1<<3 | wireBytes
	tagResourceLogsScopeLogs = 2<<3 | wireBytes
	tagResourceLogsSchemaURL = 3<<3 | wireBytes

	// Resource.
	tagResourceAttributes = 1<<3 | wireBytes

	// ScopeLogs.
	tagScopeLogsScope      = 1<<3 | wireBytes
	tagScopeLogsLogRecords = 2<<3 | wireBytes
	tagScopeLogsSchemaURL  = 3<<3 | wireBytes

	// InstrumentationScope.
	tagScopeName       = 1<<3 | wireBytes
	tagScopeVersion    = 2<<3 | wireBytes
	tagScopeAttributes = 3<<3 | wireBytes

	// LogRecord.
	tagTimeUnixNano         = 1<<3 | wireFixed64
	tagSeverityNumber       = 2<<3 | wireVarint
	tagSeverityText         = 3<<3 | wireBytes
	tagBody                 = 5<<3 | wireBytes
	tagAttributes           = 6<<3 | wireBytes
	tagDroppedAttributes    = 7<<3 | wireVarint
	tagFlags                = 8<<3 | wireFixed32
	tagTraceID              = 9<<3 | wireBytes
	tagSpanID               = 10<<3 | wireBytes
	tagObservedTimeUnixNano = 11<<3 | wireFixed64
	tagEventName            = 12<<3 | wireBytes

	// AnyValue (a oneof: the chosen member is written even when zero).
	tagStringValue = 1<<3 | wireBytes
	tagBoolValue   = 2<<3 | wireVarint
	tagIntValue    = 3<<3 | wireVarint
	tagDoubleValue = 4<<3 | wireFixed64
	tagArrayValue  = 5<<3 | wireBytes
	tagKvlistValue = 6<<3 | wireBytes
	tagBytesValue  = 7<<3 | wireBytes

	// ArrayValue.values and KeyValueList.values.
	tagValues = 1<<3 | wireBytes

	// KeyValue.
	tagKey   = 1<<3 | wireBytes
	tagValue = 2<<3 | wireBytes
)

// ErrInvalidUTF8 is wrapped by the error [AppendRequest] returns when a
// string of a record (an attribute key or value, the body, the severity
// text, the event name, or a resource or scope string) is not valid UTF-8.
// OTLP's protobuf strings must be UTF-8: otlploghttp refuses such a batch
// too (its protobuf marshalling fails). Repair the strings before export,
// for example by replacing invalid bytes with U+FFFD.
var ErrInvalidUTF8 = errors.New("string is not valid UTF-8, which OTLP requires")

// AppendRequest appends to dst the protobuf wire encoding of the OTLP
// ExportLogsServiceRequest that carries records, and returns the extended
// slice. No records append nothing.
//
// The request is the one otlploghttp v0.23.0 builds: records are grouped into
// one ResourceLogs per distinct resource (by attribute set, as
// [resource.Resource.Equivalent]; the schema URL is the first record's) and,
// inside it, one ScopeLogs per distinct instrumentation scope; records keep
// their order within a scope. Groups appear in the order of their first
// record (otlploghttp's resource order is random). Every field otlploghttp
// carries is written: timestamps (0 for times before 1970), severity number
// (0 outside 1–24) and text, body and attributes of every value kind,
// dropped attributes count, trace and span ids (when valid), trace flags,
// event name, resource attributes and schema URL, scope name, version,
// attributes and schema URL.
//
// On error (a string is not valid UTF-8, see [ErrInvalidUTF8]) dst is
// returned unchanged in length. AppendRequest is safe for concurrent use;
// its scratch space is pooled.
func AppendRequest(dst []byte, records []sdklog.Record) ([]byte, error) {
	if len(records) == 0 {
		return dst, nil
	}
	e := encoderPool.Get().(*encoder)
	defer e.release()
	return e.appendRequest(dst, records)
}

// defaultRecordSize is the first guess of an encoded record's size, for an
// encoder that has not encoded one yet.
const defaultRecordSize = 1024

// maxPooledScratch is the largest record scratch buffer kept for reuse: a
// huge batch should not pin its memory for ever.
const maxPooledScratch = 8 << 20

var encoderPool = sync.Pool{New: func() any { return newEncoder() }}

// resourceGroup is one ResourceLogs of a request.
type resourceGroup struct {
	res    *resource.Resource
	scopes []int32 // indices into encoder.scopes, in first-seen order
	// hdr and trl are the byte ranges of e.hdr written before and after
	// the ScopeLogs (the resource field; the schema URL).
	hdr, trl [2]int
}

// scopeGroup is one ScopeLogs of a request.
type scopeGroup struct {
	scope instrumentation.Scope
	count int // records in the group
	// first is the group's first position in encoder.order while
	// ordering, then the byte range of its records in encoder.recs.
	first    int
	recs     [2]int
	hdr, trl [2]int
}

type scopeKey struct {
	res   int32
	scope instrumentation.Scope
}

// encoder holds the scratch space of one AppendRequest call.
type encoder struct {
	resources []resourceGroup
	scopes    []scopeGroup
	resIndex  map[attribute.Distinct]int32
	scopeIdx  map[scopeKey]int32
	group     []int32 // scope group of each record
	order     []int32 // record indices, grouped by scope group
	recs      []byte  // the encoded LogRecords (with their tags), group by group
	perRecord int     // bytes per record of the last request, to size recs at once
	hdr       []byte  // encoded resource and scope headers and trailers

	walk func(attribute.KeyValue) bool // e.walkAttr, allocated once
	err  error                         // first error of the current call
	rec  int                           // index of the record being encoded
	what string                        // the field being encoded, for errors
	key  string                        // the attribute being encoded, for errors
}

func newEncoder() *encoder {
	e := &encoder{
		resIndex: make(map[attribute.Distinct]int32),
		scopeIdx: make(map[scopeKey]int32),
	}
	e.walk = e.walkAttr
	return e
}

// release resets e and gives it back to the pool.
func (e *encoder) release() {
	e.reset()
	encoderPool.Put(e)
}

// reset makes e ready for the next request, keeping its scratch space.
func (e *encoder) reset() {
	for i := range e.resources {
		e.resources[i].res = nil
	}
	for i := range e.scopes {
		e.scopes[i].scope = instrumentation.Scope{}
	}
	e.resources = e.resources[:0]
	e.scopes = e.scopes[:0]
	clear(e.resIndex)
	clear(e.scopeIdx)
	e.err = nil
	e.key, e.what = "", ""
	if cap(e.recs) > maxPooledScratch {
		e.recs = nil
	}
}

func (e *encoder) appendRequest(dst []byte, records []sdklog.Record) ([]byte, error) {
	e.groupRecords(records)

	// The records, group by group, each with its LogRecord tag and length,
	// in a buffer sized at once from the size of the last request's: grown
	// by append, a batch of hundreds of records was copied over and over
	// (growslice's memmove and the new memory's clearing, several µs a
	// record in a loaded server).
	per := e.perRecord
	if per == 0 {
		per = defaultRecordSize
	}
	if need := len(records) * per; cap(e.recs) < need {
		e.recs = make([]byte, 0, need)
	}
	e.recs = e.recs[:0]
	for g := range e.scopes {
		sg := &e.scopes[g]
		start := len(e.recs)
		for _, i := range e.order[sg.first : sg.first+sg.count] {
			e.rec = int(i)
			e.recs = e.appendLogRecord(e.recs, &records[i])
		}
		sg.recs = [2]int{start, len(e.recs)}
	}
	e.perRecord = len(e.recs)/len(records) + len(e.recs)/len(records)/8 + 16 // some room for longer records

	// Resource and scope headers and trailers, and the lengths they imply.
	e.hdr = e.hdr[:0]
	e.rec = -1
	total := 0
	for r := range e.resources {
		rg := &e.resources[r]
		e.appendResourceHeader(rg)
		n := rg.hdr[1] - rg.hdr[0] + rg.trl[1] - rg.trl[0]
		for _, g := range rg.scopes {
			sg := &e.scopes[g]
			e.appendScopeHeader(sg)
			sl := scopeLogsLen(sg)
			n += 1 + protowire.SizeVarint(uint64(sl)) + sl
		}
		total += 1 + protowire.SizeVarint(uint64(n)) + n
	}
	if e.err != nil {
		return dst, e.err
	}

	dst = growSlice(dst, total)
	for r := range e.resources {
		rg := &e.resources[r]
		n := rg.hdr[1] - rg.hdr[0] + rg.trl[1] - rg.trl[0]
		for _, g := range rg.scopes {
			sl := scopeLogsLen(&e.scopes[g])
			n += 1 + protowire.SizeVarint(uint64(sl)) + sl
		}
		dst = append(dst, tagRequestResourceLogs)
		dst = protowire.AppendVarint(dst, uint64(n))
		dst = append(dst, e.hdr[rg.hdr[0]:rg.hdr[1]]...)
		for _, g := range rg.scopes {
			sg := &e.scopes[g]
			dst = append(dst, tagResourceLogsScopeLogs)
			dst = protowire.AppendVarint(dst, uint64(scopeLogsLen(sg)))
			dst = append(dst, e.hdr[sg.hdr[0]:sg.hdr[1]]...)
			dst = append(dst, e.recs[sg.recs[0]:sg.recs[1]]...)
			dst = append(dst, e.hdr[sg.trl[0]:sg.trl[1]]...)
		}
		dst = append(dst, e.hdr[rg.trl[0]:rg.trl[1]]...)
	}
	return dst, nil
}

func scopeLogsLen(sg *scopeGroup) int {
	return sg.hdr[1] - sg.hdr[0] + sg.recs[1] - sg.recs[0] + sg.trl[1] - sg.trl[0]
}

// growSlice makes room for n more bytes in b.
func growSlice(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := make([]byte, len(b), len(b)+n)
	copy(nb, b)
	return nb
}

// groupRecords fills e.resources, e.scopes, e.group and e.order: the
// ResourceLogs and ScopeLogs of the request, keyed as otlploghttp keys them
// (resource attribute set; resource attribute set and scope).
func (e *encoder) groupRecords(records []sdklog.Record) {
	e.group = growInt32(e.group, len(records))
	var (
		lastRes   *resource.Resource
		lastScope instrumentation.Scope
		lastGroup int32 = -1
	)
	for i := range records {
		r := &records[i]
		res := r.Resource()
		scope := r.InstrumentationScope()
		if lastGroup >= 0 && res == lastRes && scope == lastScope {
			e.group[i] = lastGroup
			e.scopes[lastGroup].count++
			continue
		}
		rk := res.Equivalent()
		ri, ok := e.resIndex[rk]
		if !ok {
			ri = int32(len(e.resources))
			e.resources = appendResource(e.resources, res)
			e.resIndex[rk] = ri
		}
		sk := scopeKey{ri, scope}
		g, ok := e.scopeIdx[sk]
		if !ok {
			g = int32(len(e.scopes))
			e.scopes = append(e.scopes, scopeGroup{scope: scope})
			e.scopeIdx[sk] = g
			e.resources[ri].scopes = append(e.resources[ri].scopes, g)
		}
		e.group[i] = g
		e.scopes[g].count++
		lastRes, lastScope, lastGroup = res, scope, g
	}

	// A counting sort of the record indices by group, stable.
	pos := 0
	for g := range e.scopes {
		e.scopes[g].first = pos
		pos += e.scopes[g].count
	}
	e.order = growInt32(e.order, len(records))
	for g := range e.scopes {
		e.scopes[g].recs[0] = e.scopes[g].first // next free slot
	}
	for i, g := range e.group {
		sg := &e.scopes[g]
		e.order[sg.recs[0]] = int32(i)
		sg.recs[0]++
	}
}

// appendResource appends a group for res, reusing the scopes slice of a
// group left from an earlier call.
func appendResource(rs []resourceGroup, res *resource.Resource) []resourceGroup {
	if len(rs) < cap(rs) {
		rs = rs[:len(rs)+1]
		rg := &rs[len(rs)-1]
		*rg = resourceGroup{res: res, scopes: rg.scopes[:0]}
		return rs
	}
	return append(rs, resourceGroup{res: res})
}

func growInt32(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n)
	}
	return s[:n]
}

// appendResourceHeader writes the Resource field and the schema URL of a
// ResourceLogs to e.hdr. otlploghttp writes the Resource only when it has
// attributes.
func (e *encoder) appendResourceHeader(rg *resourceGroup) {
	start := len(e.hdr)
	if rg.res.Len() > 0 {
		e.what = "resource attribute"
		e.hdr = append(e.hdr, tagResourceLogsResource)
		pos := len(e.hdr)
		e.hdr = append(e.hdr, 0, 0)
		iter := rg.res.Iter()
		for iter.Next() {
			kv := iter.Attribute()
			e.key = string(kv.Key)
			e.hdr = e.appendKeyValue(e.hdr, tagResourceAttributes, e.key, kv.Value)
		}
		e.key = ""
		e.hdr = finishLen(e.hdr, pos, 2)
	}
	rg.hdr = [2]int{start, len(e.hdr)}
	e.what = "the resource schema URL"
	e.hdr = e.appendString(e.hdr, tagResourceLogsSchemaURL, rg.res.SchemaURL())
	rg.trl = [2]int{rg.hdr[1], len(e.hdr)}
}

// appendScopeHeader writes the InstrumentationScope field and the schema
// URL of a ScopeLogs to e.hdr; otlploghttp writes neither for the zero
// scope, and the scope field, even when empty, for any other.
func (e *encoder) appendScopeHeader(sg *scopeGroup) {
	start := len(e.hdr)
	s := &sg.scope
	if *s == (instrumentation.Scope{}) {
		sg.hdr = [2]int{start, start}
		sg.trl = sg.hdr
		return
	}
	e.hdr = append(e.hdr, tagScopeLogsScope)
	pos := len(e.hdr)
	e.hdr = append(e.hdr, 0)
	e.what = "the instrumentation scope name"
	e.hdr = e.appendString(e.hdr, tagScopeName, s.Name)
	e.what = "the instrumentation scope version"
	e.hdr = e.appendString(e.hdr, tagScopeVersion, s.Version)
	e.what = "instrumentation scope attribute"
	iter := s.Attributes.Iter()
	for iter.Next() {
		kv := iter.Attribute()
		e.key = string(kv.Key)
		e.hdr = e.appendKeyValue(e.hdr, tagScopeAttributes, e.key, kv.Value)
	}
	e.key = ""
	e.hdr = finishLen(e.hdr, pos, 1)
	sg.hdr = [2]int{start, len(e.hdr)}
	e.what = "the instrumentation scope schema URL"
	e.hdr = e.appendString(e.hdr, tagScopeLogsSchemaURL, s.SchemaURL)
	sg.trl = [2]int{sg.hdr[1], len(e.hdr)}
}

// appendLogRecord appends the log_records field of a ScopeLogs for r.
func (e *encoder) appendLogRecord(b []byte, r *sdklog.Record) []byte {
	b = append(b, tagScopeLogsLogRecords)
	pos := len(b)
	// Two bytes hold a length up to 16383, the usual size of an audit
	// record; finishLen moves the record when it needs one or three.
	b = append(b, 0, 0)

	if t := unixNano(r.Timestamp()); t != 0 {
		b = append(b, tagTimeUnixNano)
		b = protowire.AppendFixed64(b, t)
	}
	if s := r.Severity(); s >= 1 && s <= 24 {
		b = append(b, tagSeverityNumber, byte(s))
	}
	e.what = "the severity text"
	b = e.appendString(b, tagSeverityText, r.SeverityText())

	e.what = "the body"
	b = append(b, tagBody)
	b = e.appendAnyValue(b, r.Body())

	e.what = "attribute"
	e.recs = b
	r.WalkAttributes(e.walk)
	b = e.recs
	e.key = ""

	if d := r.DroppedAttributes(); d > 0 {
		b = append(b, tagDroppedAttributes)
		b = protowire.AppendVarint(b, uint64(min(d, math.MaxUint32)))
	}
	if f := r.TraceFlags(); f != 0 {
		b = append(b, tagFlags)
		b = protowire.AppendFixed32(b, uint32(f))
	}
	if id := r.TraceID(); id.IsValid() {
		b = append(b, tagTraceID, byte(len(id)))
		b = append(b, id[:]...)
	}
	if id := r.SpanID(); id.IsValid() {
		b = append(b, tagSpanID, byte(len(id)))
		b = append(b, id[:]...)
	}
	if t := unixNano(r.ObservedTimestamp()); t != 0 {
		b = append(b, tagObservedTimeUnixNano)
		b = protowire.AppendFixed64(b, t)
	}
	e.what = "the event name"
	b = e.appendString(b, tagEventName, r.EventName())
	return finishLen(b, pos, 2)
}

// walkAttr is the WalkAttributes callback: it appends kv to e.recs.
func (e *encoder) walkAttr(kv attribute.KeyValue) bool {
	e.key = string(kv.Key)
	e.recs = e.appendKeyValue(e.recs, tagAttributes, e.key, kv.Value)
	return true
}

// unixNano is otlploghttp's conversion: nanoseconds since 1970, 0 for
// earlier times and the zero time.
func unixNano(t time.Time) uint64 {
	n := t.UnixNano()
	if n < 0 {
		return 0
	}
	return uint64(n)
}

// appendString appends a string field, omitted when empty (proto3).
func (e *encoder) appendString(b []byte, tag byte, s string) []byte {
	if s == "" {
		return b
	}
	e.checkUTF8(s)
	b = append(b, tag)
	b = protowire.AppendVarint(b, uint64(len(s)))
	return append(b, s...)
}

func (e *encoder) checkUTF8(s string) {
	if e.err != nil || utf8.ValidString(s) {
		return
	}
	where := e.what
	if e.key != "" {
		where = fmt.Sprintf("%s %q", e.what, e.key)
	}
	if e.rec >= 0 {
		where = fmt.Sprintf("record %d of the batch: %s", e.rec, where)
	}
	e.err = fmt.Errorf("otlpwire: %s: %w; the batch was not sent (replace invalid bytes, e.g. with U+FFFD, before export)", where, ErrInvalidUTF8)
}

// appendKeyValue appends a KeyValue field (tag) with key and v. The key is
// omitted when empty (proto3); the value is always written, as otlploghttp
// always sets it.
func (e *encoder) appendKeyValue(b []byte, tag byte, key string, v attribute.Value) []byte {
	e.checkUTF8(key)
	keyLen := 0
	if key != "" {
		keyLen = 1 + protowire.SizeVarint(uint64(len(key))) + len(key)
	}
	b = append(b, tag)
	if n, ok := scalarSize(v); ok {
		b = protowire.AppendVarint(b, uint64(keyLen+1+protowire.SizeVarint(uint64(n))+n))
		if key != "" {
			b = append(b, tagKey)
			b = protowire.AppendVarint(b, uint64(len(key)))
			b = append(b, key...)
		}
		b = append(b, tagValue)
		b = protowire.AppendVarint(b, uint64(n))
		return e.appendScalar(b, v)
	}
	pos := len(b)
	b = append(b, 0)
	if key != "" {
		b = append(b, tagKey)
		b = protowire.AppendVarint(b, uint64(len(key)))
		b = append(b, key...)
	}
	b = append(b, tagValue)
	b = e.appendAnyValue(b, v)
	return finishLen(b, pos, 1)
}

// scalarSize returns the encoded size of the AnyValue for v when v is not
// a composite value (or bytes, whose length costs a copy to learn).
func scalarSize(v attribute.Value) (int, bool) {
	switch v.Type() {
	case attribute.EMPTY:
		return 0, true
	case attribute.BOOL:
		return 2, true
	case attribute.INT64:
		return 1 + protowire.SizeVarint(uint64(v.AsInt64())), true
	case attribute.FLOAT64:
		return 9, true
	case attribute.STRING:
		n := len(v.AsString())
		return 1 + protowire.SizeVarint(uint64(n)) + n, true
	case attribute.BOOLSLICE, attribute.INT64SLICE, attribute.FLOAT64SLICE,
		attribute.STRINGSLICE, attribute.BYTESLICE, attribute.SLICE, attribute.MAP:
		return 0, false
	}
	return 1 + 1 + len(invalid), true
}

// invalid is what otlploghttp writes for a value of an unknown type.
const invalid = "INVALID"

// appendScalar appends the AnyValue content of a v for which scalarSize
// reports true.
func (e *encoder) appendScalar(b []byte, v attribute.Value) []byte {
	switch v.Type() {
	case attribute.EMPTY:
		return b
	case attribute.BOOL:
		return append(b, tagBoolValue, byte(protowire.EncodeBool(v.AsBool())))
	case attribute.INT64:
		b = append(b, tagIntValue)
		return protowire.AppendVarint(b, uint64(v.AsInt64()))
	case attribute.FLOAT64:
		b = append(b, tagDoubleValue)
		return protowire.AppendFixed64(b, math.Float64bits(v.AsFloat64()))
	case attribute.STRING:
		s := v.AsString()
		e.checkUTF8(s)
		b = append(b, tagStringValue)
		b = protowire.AppendVarint(b, uint64(len(s)))
		return append(b, s...)
	}
	b = append(b, tagStringValue, byte(len(invalid)))
	return append(b, invalid...)
}

// appendAnyValue appends the length and content of the AnyValue for v.
func (e *encoder) appendAnyValue(b []byte, v attribute.Value) []byte {
	if n, ok := scalarSize(v); ok {
		b = protowire.AppendVarint(b, uint64(n))
		return e.appendScalar(b, v)
	}
	pos := len(b)
	b = append(b, 0)
	switch v.Type() {
	case attribute.BYTESLICE:
		p := v.AsByteSlice()
		b = append(b, tagBytesValue)
		b = protowire.AppendVarint(b, uint64(len(p)))
		b = append(b, p...)
	case attribute.MAP:
		b = append(b, tagKvlistValue)
		lp := len(b)
		b = append(b, 0)
		for _, kv := range v.AsMap() {
			b = e.appendKeyValue(b, tagValues, string(kv.Key), kv.Value)
		}
		b = finishLen(b, lp, 1)
	default: // the slices
		b = append(b, tagArrayValue)
		lp := len(b)
		b = append(b, 0)
		b = e.appendArray(b, v)
		b = finishLen(b, lp, 1)
	}
	return finishLen(b, pos, 1)
}

// appendArray appends the values of an ArrayValue for a slice value.
func (e *encoder) appendArray(b []byte, v attribute.Value) []byte {
	switch v.Type() {
	case attribute.BOOLSLICE:
		for _, x := range v.AsBoolSlice() {
			b = append(b, tagValues, 2, tagBoolValue, byte(protowire.EncodeBool(x)))
		}
	case attribute.INT64SLICE:
		for _, x := range v.AsInt64Slice() {
			b = append(b, tagValues, byte(1+protowire.SizeVarint(uint64(x))), tagIntValue)
			b = protowire.AppendVarint(b, uint64(x))
		}
	case attribute.FLOAT64SLICE:
		for _, x := range v.AsFloat64Slice() {
			b = append(b, tagValues, 9, tagDoubleValue)
			b = protowire.AppendFixed64(b, math.Float64bits(x))
		}
	case attribute.STRINGSLICE:
		for _, s := range v.AsStringSlice() {
			e.checkUTF8(s)
			n := 1 + protowire.SizeVarint(uint64(len(s))) + len(s)
			b = append(b, tagValues)
			b = protowire.AppendVarint(b, uint64(n))
			b = append(b, tagStringValue)
			b = protowire.AppendVarint(b, uint64(len(s)))
			b = append(b, s...)
		}
	case attribute.SLICE:
		for _, x := range v.AsSlice() {
			b = append(b, tagValues)
			b = e.appendAnyValue(b, x)
		}
	}
	return b
}

// finishLen writes at b[pos:] the varint length of the message that follows
// the reserved bytes there, moving the message when its length needs more
// or fewer bytes than were reserved.
func finishLen(b []byte, pos, reserved int) []byte {
	n := len(b) - pos - reserved
	size := protowire.SizeVarint(uint64(n))
	if size != reserved {
		if size > reserved {
			b = append(b, make([]byte, size-reserved)...)
		}
		copy(b[pos+size:], b[pos+reserved:pos+reserved+n])
		b = b[:pos+size+n]
	}
	protowire.AppendVarint(b[:pos], uint64(n))
	return b
}
