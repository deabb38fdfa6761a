package exporter

import (
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelaudit/otelaudit/psono"
)

// AppendLine appends the Psono line of r, with its trailing newline, to dst.
// The time is r's Timestamp (its ObservedTimestamp when Timestamp is unset)
// in loc. Fields come in Psono's order whatever the order of r's attributes:
// logger, user_ip, req_method, req_url, success, hostname, status, event
// (written as None when r lacks them), then user and user_id when r has them,
// then every audit.kwarg.* attribute in r's order. Other attributes are not
// written. Every value is encoded by psono.AppendValue, so the result is
// exactly one line.
func AppendLine(dst []byte, r *sdklog.Record, loc *time.Location) []byte {
	t := r.Timestamp()
	if t.IsZero() {
		t = r.ObservedTimestamp()
	}
	dst = psono.AppendTime(dst, t.In(loc))

	// The attributes are first copied out of the record, up to
	// inlineAttrs of them, then read in place: the SDK passes each one by
	// value to a callback, and reading a Value's fields right there costs
	// more than everything else here. A record with more attributes is
	// walked instead, twice: once for the fields, once for the kwargs.
	var (
		attrs [inlineAttrs]attribute.KeyValue
		n     int
		fs    lineFields
	)
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		if n < len(attrs) {
			attrs[n] = kv
		}
		n++
		return true
	})
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
		r.WalkAttributes(func(kv attribute.KeyValue) bool {
			kwargs = fs.take(&kv) || kwargs
			return true
		})
	}
	present, typed := fs.present, fs.typed

	for i := range psono.Fields {
		if present&(1<<i) == 0 && (i == idxUser || i == idxUserID) {
			continue
		}
		dst = append(dst, fieldPrefix[i]...)
		switch {
		case i == idxEvent:
			if ev := r.EventName(); ev != "" {
				dst = psono.AppendValue(dst, ev)
			} else {
				dst = append(dst, "None"...)
			}
		case present&(1<<i) == 0:
			dst = append(dst, "None"...)
		case typed&(1<<i) == 0:
			dst = psono.AppendValue(dst, fs.strs[i])
		case i == idxStatus:
			dst = psono.AppendStatusName(dst, int(fs.status))
		case fs.success:
			dst = append(dst, "True"...)
		default:
			dst = append(dst, "False"...)
		}
	}
	if kwargs && n <= len(attrs) {
		for j := range attrs[:n] {
			if kwargAt&(1<<j) != 0 {
				dst = appendKwarg(dst, &attrs[j])
			}
		}
	} else if kwargs {
		r.WalkAttributes(func(kv attribute.KeyValue) bool {
			if isKwarg(kv.Key) {
				dst = appendKwarg(dst, &kv)
			}
			return true
		})
	}
	return append(dst, '\n')
}

// inlineAttrs is how many attributes AppendLine copies out of a record; the
// middleware's records have 8 to 13.
const inlineAttrs = 16

// lineFields holds the values of the fixed fields of a line.
type lineFields struct {
	strs    [len(psono.Fields)]string
	present uint16 // bit i: psono.Fields[i] is in the record
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
	return strings.HasPrefix(string(key), psono.KwargAttrPrefix)
}

// appendKwarg appends ", kwarg_<name>=<value>" for an audit.kwarg.*
// attribute.
func appendKwarg(dst []byte, kv *attribute.KeyValue) []byte {
	dst = append(dst, ", "+psono.KwargPrefix...)
	dst = append(dst, psono.KwargName(string(kv.Key[len(psono.KwargAttrPrefix):]))...)
	dst = append(dst, '=')
	if kv.Value.Type() == attribute.STRING {
		return psono.AppendValue(dst, kv.Value.AsString())
	}
	return psono.AppendValue(dst, kv.Value.String())
}

// Indexes in psono.Fields of the fields AppendLine treats specially.
var (
	idxEvent   = indexOf(psono.Event)
	idxStatus  = indexOf(psono.Status)
	idxSuccess = indexOf(psono.Success)
	idxUser    = indexOf(psono.User)
	idxUserID  = indexOf(psono.UserID)
)

func indexOf(f psono.Field) int {
	for i, g := range psono.Fields {
		if g == f {
			return i
		}
	}
	panic("exporter: field " + f.Name + " is not in psono.Fields")
}

// fieldPrefix holds what precedes each field's value in a line: " logger="
// for the first, ", user_ip=" and so on for the others.
var fieldPrefix = func() (p [len(psono.Fields)]string) {
	for i, f := range psono.Fields {
		if i == 0 {
			p[i] = " " + f.Name + "="
		} else {
			p[i] = ", " + f.Name + "="
		}
	}
	return p
}()

// fieldIndex returns the index in psono.Fields of the field carried by key,
// or -1.
func fieldIndex(key attribute.Key) int {
	if len(key) < len(fieldsByLen) {
		for _, i := range fieldsByLen[len(key)] {
			if i == 0 {
				break
			}
			if psono.Fields[i-1].Attr == key {
				return int(i - 1)
			}
		}
	}
	return -1
}

// fieldsByLen indexes psono.Fields by the length of their attribute key, so
// that fieldIndex compares a key with one or two candidates only. It holds
// index+1, so that 0 ends a list.
var fieldsByLen = func() (t [64][2]int8) {
	for i, f := range psono.Fields {
		if f.Attr == "" {
			continue
		}
		n := len(f.Attr)
		j := 0
		for j < len(t[n]) && t[n][j] != 0 {
			j++
		}
		if j == len(t[n]) {
			panic("exporter: more than two psono fields have attribute keys of length " + strconv.Itoa(n))
		}
		t[n][j] = int8(i + 1)
	}
	return t
}()
