package main

import (
	"bufio"
	"io"
	"strconv"
	"strings"

	"github.com/otelaudit/otelaudit/psono"
)

// JSON keys that are not attributes of psono's field table.
const (
	// jsonTime holds the line's time exactly as written (no zone: UTC unless
	// the service writes time_server).
	jsonTime = "timestamp"
	// jsonEvent holds the event code, the record's EventName.
	jsonEvent = "event.name"
)

// A printer writes matching records: the Psono line as it is in the file
// (with the bytes that would control a terminal escaped, see
// appendEscaped), or with -json one JSON object per record.
type printer struct {
	w    *bufio.Writer
	json bool
	buf  []byte
}

func newPrinter(w io.Writer, asJSON bool) *printer {
	return &printer{w: bufio.NewWriter(w), json: asJSON}
}

// attrOf maps line keys to the attribute keys of psono.Fields.
var attrOf = func() map[string]string {
	m := map[string]string{psono.Event.Name: jsonEvent}
	for _, f := range psono.Fields {
		if f.Attr != "" {
			m[f.Name] = string(f.Attr)
		}
	}
	return m
}()

// print writes one record: raw is the line without its newline.
func (p *printer) print(raw []byte, l psono.Line) error {
	if !p.json {
		if plainText(raw) {
			p.w.Write(raw)
		} else {
			p.buf = appendEscaped(p.buf[:0], raw)
			p.w.Write(p.buf)
		}
		return p.w.WriteByte('\n')
	}
	b := append(p.buf[:0], '{')
	b = appendKey(b, jsonTime)
	b = appendString(b, l.Time)
	for _, pair := range l.Pairs {
		key := pair.Key
		if a, ok := attrOf[key]; ok {
			key = a
		} else if name, ok := strings.CutPrefix(key, psono.KwargPrefix); ok {
			key = string(psono.KwargAttr(name))
		}
		b = append(b, ',')
		b = appendKey(b, key)
		switch {
		case pair.Key == psono.Success.Name && (pair.Value == "True" || pair.Value == "False"):
			b = strconv.AppendBool(b, pair.Value == "True")
		case pair.Key == psono.Status.Name:
			if code, ok := psono.ParseStatusName(pair.Value); ok {
				b = strconv.AppendInt(b, int64(code), 10)
			} else {
				b = appendString(b, pair.Value)
			}
		default:
			b = appendString(b, pair.Value)
		}
	}
	b = append(b, '}', '\n')
	p.buf = b
	_, err := p.w.Write(b)
	return err
}

func appendKey(b []byte, k string) []byte {
	return append(appendString(b, k), ':')
}

func appendString(b []byte, s string) []byte {
	return appendJSONString(b, s)
}

// flush writes what is buffered.
func (p *printer) flush() error { return p.w.Flush() }
