package spool

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"

	"github.com/otelaudit/otelaudit/psono"
)

// The record that names what the spool dropped for its budget.
const (
	// DroppedEvent is the event code of the record sent ahead of every
	// other when delivery resumes after records were dropped, and written
	// to audit.log when the drop happens (see WithOnDrop).
	DroppedEvent = psono.DroppedEvent
	// Scope is the instrumentation scope of the drop records.
	Scope = psono.DroppedScope
	// DroppedLogger is their psono.Logger.
	DroppedLogger = "otelaudit.spool"

	// DroppedCount is the number of records dropped.
	DroppedCount attribute.Key = "audit.dropped.count"
	// DroppedPositions names the audit.log lines dropped: ranges
	// TREE:FIRST-LAST (or TREE:INDEX), comma-separated, of the records that
	// carried a position.
	DroppedPositions attribute.Key = "audit.dropped.positions"
	// DroppedSeqs names the spool's sequence numbers dropped: ranges
	// FIRST-LAST (or N), comma-separated; every record has one (SpoolSeq).
	DroppedSeqs attribute.Key = "audit.dropped.seqs"
)

// The attributes the spool adds to every record it sends (they are not in
// audit.log's line).
const (
	// RecordUID is the OpenTelemetry semantic convention for telling
	// copies of one record apart from distinct records: a record the spool
	// sends twice (only possible around a crash) carries the same value
	// both times, so a backend can drop the copy. It is the spool's id and
	// the record's SpoolSeq.
	RecordUID attribute.Key = "log.record.uid"
	// Origin is the stream the record belongs to (WithOrigin): with
	// psono.LogTree and psono.LogIndex it places the record, and tells the
	// instances behind one gateway apart.
	Origin attribute.Key = "audit.log.origin"
	// SpoolSeq is the record's number in the spool: it grows by one per
	// record spooled, across restarts, so a hole in it is a record lost
	// on the way (the drop record names those the spool dropped).
	SpoolSeq attribute.Key = "audit.spool.seq"
)

// Range is a run of consecutive numbers, First to Last included.
type Range struct{ First, Last int64 }

// Span is a run of consecutive lines of one file of audit.log.
type Span struct {
	Tree int64
	Range
}

// Drop describes records the spool dropped for its budget.
type Drop struct {
	// Count is the number of records dropped.
	Count int64
	// Seqs are their spool sequence numbers.
	Seqs []Range
	// Positions are the audit.log lines they were, for those that carried
	// a position (psono.LogTree, psono.LogIndex).
	Positions []Span
	// From and To are when the first and the last of them were dropped.
	From, To time.Time
}

// add counts one dropped record.
func (d *Drop) add(seq int64, h header, now time.Time) {
	if d.Count == 0 {
		d.From = now
	}
	d.To = now
	d.Count++
	d.Seqs = addRange(d.Seqs, seq)
	if h.tree >= 0 && h.index >= 0 {
		if n := len(d.Positions); n > 0 && d.Positions[n-1].Tree == h.tree && d.Positions[n-1].Last+1 == h.index {
			d.Positions[n-1].Last = h.index
		} else {
			d.Positions = append(d.Positions, Span{h.tree, Range{h.index, h.index}})
		}
	}
}

func addRange(rs []Range, n int64) []Range {
	if k := len(rs); k > 0 && rs[k-1].Last+1 == n {
		rs[k-1].Last = n
		return rs
	}
	return append(rs, Range{n, n})
}

// merge adds o, dropped after d, to d.
func (d *Drop) merge(o Drop) {
	if o.Count == 0 {
		return
	}
	if d.Count == 0 {
		*d = Drop{From: o.From}
	}
	d.Count += o.Count
	d.To = o.To
	for _, r := range o.Seqs {
		if k := len(d.Seqs); k > 0 && d.Seqs[k-1].Last+1 == r.First {
			d.Seqs[k-1].Last = r.Last
		} else {
			d.Seqs = append(d.Seqs, r)
		}
	}
	for _, s := range o.Positions {
		if k := len(d.Positions); k > 0 && d.Positions[k-1].Tree == s.Tree && d.Positions[k-1].Last+1 == s.First {
			d.Positions[k-1].Last = s.Last
		} else {
			d.Positions = append(d.Positions, s)
		}
	}
}

func (r Range) String() string {
	if r.First == r.Last {
		return strconv.FormatInt(r.First, 10)
	}
	return strconv.FormatInt(r.First, 10) + "-" + strconv.FormatInt(r.Last, 10)
}

// SeqsString returns d.Seqs as DroppedSeqs holds them.
func (d Drop) SeqsString() string {
	parts := make([]string, len(d.Seqs))
	for i, r := range d.Seqs {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}

// PositionsString returns d.Positions as DroppedPositions holds them.
func (d Drop) PositionsString() string {
	parts := make([]string, len(d.Positions))
	for i, s := range d.Positions {
		parts[i] = strconv.FormatInt(s.Tree, 10) + ":" + s.Range.String()
	}
	return strings.Join(parts, ",")
}

// ParseRanges reads ranges as DroppedSeqs holds them (and the FIRST-LAST
// part of DroppedPositions).
func ParseRanges(s string) ([]Range, error) {
	var out []Range
	for _, p := range strings.Split(s, ",") {
		if p == "" {
			continue
		}
		a, b, ok := strings.Cut(p, "-")
		first, err := strconv.ParseInt(a, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("spool: range %q: %w", p, err)
		}
		last := first
		if ok {
			if last, err = strconv.ParseInt(b, 10, 64); err != nil {
				return nil, fmt.Errorf("spool: range %q: %w", p, err)
			}
		}
		out = append(out, Range{first, last})
	}
	return out, nil
}

// ParseSpans reads spans as DroppedPositions holds them.
func ParseSpans(s string) ([]Span, error) {
	var out []Span
	for _, p := range strings.Split(s, ",") {
		if p == "" {
			continue
		}
		t, rs, ok := strings.Cut(p, ":")
		if !ok {
			return nil, fmt.Errorf("spool: position range %q has no tree", p)
		}
		tree, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("spool: position range %q: %w", p, err)
		}
		r, err := ParseRanges(rs)
		if err != nil || len(r) != 1 {
			return nil, fmt.Errorf("spool: position range %q: want TREE:FIRST-LAST", p)
		}
		out = append(out, Span{tree, r[0]})
	}
	return out, nil
}

// Attributes returns the attributes of d's record, without the origin.
func (d Drop) Attributes() []attribute.KeyValue {
	return []attribute.KeyValue{
		attribute.String(string(psono.Logger.Attr), DroppedLogger),
		attribute.Bool(string(psono.Success.Attr), false),
		DroppedCount.Int64(d.Count),
		DroppedSeqs.String(d.SeqsString()),
		DroppedPositions.String(d.PositionsString()),
	}
}

// Record returns d as the AUDIT_RECORDS_DROPPED record, for a Logger of
// scope Scope. host is its psono.Hostname.
func (d Drop) Record(host string) log.Record {
	var r log.Record
	r.SetTimestamp(d.To)
	r.SetObservedTimestamp(time.Now())
	r.SetSeverity(log.SeverityWarn)
	r.SetSeverityText("WARN")
	r.SetEventName(DroppedEvent)
	r.SetBody(attribute.StringValue(d.String()))
	r.AddAttributes(d.Attributes()...)
	if host != "" {
		r.AddAttributes(attribute.String(string(psono.Hostname.Attr), host))
	}
	return r
}

// String says what d dropped, in words.
func (d Drop) String() string {
	s := fmt.Sprintf("the forwarding spool dropped %d audit record(s) for its disk budget (spool records %s", d.Count, d.SeqsString())
	if len(d.Positions) > 0 {
		s += "; audit.log lines " + d.PositionsString()
	}
	return s + "); audit.log keeps them, the off-host copy does not"
}

// encode returns d's stored form (the drops bucket).
func (d Drop) encode() []byte {
	b := binary.AppendVarint(nil, d.Count)
	b = binary.AppendVarint(b, d.From.UnixNano())
	b = binary.AppendVarint(b, d.To.UnixNano())
	b = binary.AppendUvarint(b, uint64(len(d.Seqs)))
	for _, r := range d.Seqs {
		b = binary.AppendVarint(b, r.First)
		b = binary.AppendVarint(b, r.Last)
	}
	b = binary.AppendUvarint(b, uint64(len(d.Positions)))
	for _, s := range d.Positions {
		b = binary.AppendVarint(b, s.Tree)
		b = binary.AppendVarint(b, s.First)
		b = binary.AppendVarint(b, s.Last)
	}
	return b
}

func decodeDrop(b []byte) (Drop, error) {
	dec := decoder{b: b}
	var d Drop
	d.Count = dec.varint()
	d.From = time.Unix(0, dec.varint())
	d.To = time.Unix(0, dec.varint())
	n := dec.count()
	for range n {
		d.Seqs = append(d.Seqs, Range{dec.varint(), dec.varint()})
	}
	n = dec.count()
	for range n {
		d.Positions = append(d.Positions, Span{dec.varint(), Range{dec.varint(), dec.varint()}})
	}
	return d, dec.err
}

// dropRecord returns the stored record of d, as the sender sends it first.
func dropRecord(d Drop, res [8]byte, host string) storedRecord {
	r := d.Record(host)
	s := storedRecord{
		header: header{tree: -1, index: -1}, resource: res, scopeName: Scope,
		timestamp: r.Timestamp(), observed: r.ObservedTimestamp(), severity: r.Severity(),
		severityText: r.SeverityText(), event: r.EventName(), body: r.Body(),
	}
	r.WalkAttributes(func(kv attribute.KeyValue) bool { s.attrs = append(s.attrs, kv); return true })
	return s
}
