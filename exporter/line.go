package exporter

import (
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

	var (
		vals    [len(psono.Fields)]attribute.Value
		kwargs  bool
		present uint16
	)
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		i := fieldIndex(kv.Key)
		if i >= 0 {
			vals[i], present = kv.Value, present|1<<i
		} else if strings.HasPrefix(string(kv.Key), psono.KwargAttrPrefix) {
			kwargs = true
		}
		return true
	})

	for i, f := range psono.Fields {
		if i == 0 {
			dst = append(dst, ' ')
		} else if f == psono.User || f == psono.UserID {
			if present&(1<<i) == 0 {
				continue
			}
			dst = append(dst, ", "...)
		} else {
			dst = append(dst, ", "...)
		}
		dst = append(dst, f.Name...)
		dst = append(dst, '=')
		switch {
		case f == psono.Event:
			if ev := r.EventName(); ev != "" {
				dst = psono.AppendValue(dst, ev)
			} else {
				dst = append(dst, "None"...)
			}
		case present&(1<<i) == 0:
			dst = append(dst, "None"...)
		case f == psono.Status && vals[i].Type() == attribute.INT64:
			dst = psono.AppendStatusName(dst, int(vals[i].AsInt64()))
		case f == psono.Success && vals[i].Type() == attribute.BOOL:
			if vals[i].AsBool() {
				dst = append(dst, "True"...)
			} else {
				dst = append(dst, "False"...)
			}
		default:
			dst = appendAttrValue(dst, vals[i])
		}
	}
	if kwargs {
		r.WalkAttributes(func(kv attribute.KeyValue) bool {
			name, ok := strings.CutPrefix(string(kv.Key), psono.KwargAttrPrefix)
			if !ok {
				return true
			}
			dst = append(dst, ", "...)
			dst = append(dst, psono.KwargPrefix...)
			dst = appendName(dst, name)
			dst = append(dst, '=')
			dst = appendAttrValue(dst, kv.Value)
			return true
		})
	}
	return append(dst, '\n')
}

// fieldIndex returns the index in psono.Fields of the field carried by key,
// or -1.
func fieldIndex(key attribute.Key) int {
	if len(key) < len(fieldsByLen) {
		for _, i := range fieldsByLen[len(key)] {
			if psono.Fields[i].Attr == key {
				return i
			}
		}
	}
	return -1
}

// fieldsByLen indexes psono.Fields by the length of their attribute key, so
// that fieldIndex compares a key with one or two candidates only.
var fieldsByLen = func() (t [64][]int) {
	for i, f := range psono.Fields {
		if f.Attr != "" {
			t[len(f.Attr)] = append(t[len(f.Attr)], i)
		}
	}
	return t
}()

func appendAttrValue(dst []byte, v attribute.Value) []byte {
	if v.Type() == attribute.STRING {
		return psono.AppendValue(dst, v.AsString())
	}
	return psono.AppendValue(dst, v.Emit())
}

// appendName appends a kwarg name, with every character outside
// psono.ValidKwargName's alphabet replaced by '_' so that no name can change
// how the line splits.
func appendName(dst []byte, name string) []byte {
	if name == "" {
		return append(dst, '_')
	}
	for i := 0; i < len(name) && i < 64; i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			c = '_'
		}
		dst = append(dst, c)
	}
	return dst
}
