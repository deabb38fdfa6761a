package psono

import (
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
)

// The literals of Python's str() that lines hold.
const (
	pyNone  = "None"
	pyTrue  = "True"
	pyFalse = "False"
)

// A LineBuilder makes the Psono line of one OpenTelemetry log record as the
// middleware emits it, with the fields as attributes named by Fields: Add
// each of the record's attributes, in order, then AppendLine. The zero
// LineBuilder is ready; it is meant to live on the stack of one call (its
// attributes are copied out of the record, up to inlineAttrs of them: the
// SDK hands each one by value to a callback, and reading it in place costs
// more than everything else here).
type LineBuilder struct {
	attrs [inlineAttrs]attribute.KeyValue
	n     int
}

// Add adds the record's next attribute.
func (b *LineBuilder) Add(kv attribute.KeyValue) {
	if b.n < len(b.attrs) {
		b.attrs[b.n] = kv
	}
	b.n++
}

// Overflow reports whether more attributes were added than the builder
// holds: AppendLine then needs them walked again.
func (b *LineBuilder) Overflow() bool { return b.n > len(b.attrs) }

// AppendLine appends the Psono line, with its trailing newline, to dst. The
// time is t in loc, the event the record's event name. Fields come in
// Psono's order whatever the order of the attributes: logger, user_ip,
// req_method, req_url, success, hostname, status, event (written as None
// when missing), then user and user_id when present, then every
// audit.kwarg.* attribute in order. Other attributes are not written.
// Every value is encoded by AppendValue, so the result is exactly one line.
// walk walks the record's attributes again; it is called only when
// Overflow (nil otherwise is fine).
func (b *LineBuilder) AppendLine(dst []byte, t time.Time, loc *time.Location, event string, walk func(func(attribute.KeyValue) bool)) []byte {
	dst = AppendTime(dst, t.In(loc))
	var fs lineFields
	attrs, n := &b.attrs, b.n
	kwargs := false
	var kwargAt uint32 // bit j: attrs[j] is a kwarg
	if n <= len(attrs) {
		for j := range attrs[:n] {
			if fs.take(&attrs[j]) {
				kwargAt |= 1 << j
			}
		}
		kwargs = kwargAt != 0
	} else {
		fs, kwargs = walkFields(walk)
	}
	present, typed := fs.present, fs.typed

	for i := range Fields {
		if present&(1<<i) == 0 && (i == idxUser || i == idxUserID) {
			continue
		}
		dst = append(dst, fieldPrefix[i]...)
		switch {
		case i == idxEvent:
			if event != "" {
				dst = AppendValue(dst, event)
			} else {
				dst = append(dst, pyNone...)
			}
		case present&(1<<i) == 0:
			dst = append(dst, pyNone...)
		case typed&(1<<i) == 0:
			dst = AppendValue(dst, fs.strs[i])
		case i == idxStatus:
			dst = AppendStatusName(dst, int(fs.status))
		case fs.success:
			dst = append(dst, pyTrue...)
		default:
			dst = append(dst, pyFalse...)
		}
	}
	if kwargs && n <= len(attrs) {
		for j := range attrs[:n] {
			if kwargAt&(1<<j) != 0 {
				dst = appendKwarg(dst, &attrs[j])
			}
		}
	} else if kwargs {
		dst = walkKwargs(dst, walk)
	}
	return append(dst, '\n')
}

// walkFields reads the fixed fields of a record with more attributes than
// a LineBuilder holds, and reports whether it has kwargs. It is a function
// of its own so that the common path's variables stay on the stack.
func walkFields(walk func(func(attribute.KeyValue) bool)) (lineFields, bool) {
	var (
		fs     lineFields
		kwargs bool
	)
	walk(func(kv attribute.KeyValue) bool {
		kwargs = fs.take(&kv) || kwargs
		return true
	})
	return fs, kwargs
}

// walkKwargs appends the kwargs of such a record.
func walkKwargs(dst []byte, walk func(func(attribute.KeyValue) bool)) []byte {
	walk(func(kv attribute.KeyValue) bool {
		if isKwarg(kv.Key) {
			dst = appendKwarg(dst, &kv)
		}
		return true
	})
	return dst
}

// inlineAttrs is how many attributes a LineBuilder holds; the
// middleware's records have 8 to 13.
const inlineAttrs = 16

// lineFields holds the values of the fixed fields of a line.
type lineFields struct {
	strs    [len(Fields)]string
	present uint16 // bit i: Fields[i] is in the record
	typed   uint16 // bit i: held in status or success, not in strs
	status  int64
	success bool
}

// take records kv when it carries a fixed field (a later one wins over an
// earlier one with the same key) and reports whether it is a kwarg.
func (f *lineFields) take(kv *attribute.KeyValue) bool {
	i := fieldIndex(kv.Key)
	if i < 0 {
		return isKwarg(kv.Key)
	}
	f.present |= 1 << i
	f.typed &^= 1 << i
	switch t := kv.Value.Type(); {
	case t == attribute.STRING:
		f.strs[i] = kv.Value.AsString()
	case i == idxStatus && t == attribute.INT64:
		f.status, f.typed = kv.Value.AsInt64(), f.typed|1<<i
	case i == idxSuccess && t == attribute.BOOL:
		f.success, f.typed = kv.Value.AsBool(), f.typed|1<<i
	default:
		f.strs[i] = kv.Value.String()
	}
	return false
}

func isKwarg(key attribute.Key) bool {
	return strings.HasPrefix(string(key), KwargAttrPrefix)
}

// appendKwarg appends ", kwarg_<name>=<value>" for an audit.kwarg.*
// attribute.
func appendKwarg(dst []byte, kv *attribute.KeyValue) []byte {
	dst = append(dst, ", "+KwargPrefix...)
	dst = append(dst, KwargName(string(kv.Key[len(KwargAttrPrefix):]))...)
	dst = append(dst, '=')
	if kv.Value.Type() == attribute.STRING {
		return AppendValue(dst, kv.Value.AsString())
	}
	return AppendValue(dst, kv.Value.String())
}

// Indexes in Fields of the fields AppendLine treats specially.
var (
	idxEvent   = indexOf(Event)
	idxStatus  = indexOf(Status)
	idxSuccess = indexOf(Success)
	idxUser    = indexOf(User)
	idxUserID  = indexOf(UserID)
)

func indexOf(f Field) int {
	for i, g := range Fields {
		if g == f {
			return i
		}
	}
	panic("psono: field " + f.Name + " is not in Fields")
}

// fieldPrefix holds what precedes each field's value in a line: " logger="
// for the first, ", user_ip=" and so on for the others.
var fieldPrefix = func() (p [len(Fields)]string) {
	for i, f := range Fields {
		if i == 0 {
			p[i] = " " + f.Name + "="
		} else {
			p[i] = ", " + f.Name + "="
		}
	}
	return p
}()

// fieldIndex returns the index in Fields of the field carried by key,
// or -1.
func fieldIndex(key attribute.Key) int {
	if len(key) < len(fieldsByLen) {
		for _, i := range fieldsByLen[len(key)] {
			if i == 0 {
				break
			}
			if Fields[i-1].Attr == key {
				return int(i - 1)
			}
		}
	}
	return -1
}

// fieldsByLen indexes Fields by the length of their attribute key, so
// that fieldIndex compares a key with one or two candidates only. It holds
// index+1, so that 0 ends a list.
var fieldsByLen = func() (t [64][2]int8) {
	for i, f := range Fields {
		if f.Attr == "" {
			continue
		}
		n := len(f.Attr)
		j := 0
		for j < len(t[n]) && t[n][j] != 0 {
			j++
		}
		if j == len(t[n]) {
			panic("psono: more than two fields have attribute keys of length " + strconv.Itoa(n))
		}
		t[n][j] = int8(i + 1)
	}
	return t
}()
