package instrument

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"

	"github.com/otelaudit/otelaudit/internal/attremit"
	"github.com/otelaudit/otelaudit/psono"
)

// appendUser appends user and user_id when the record names either, as a
// request's and a call's records do after their fixed fields.
func appendUser(attrs []attribute.KeyValue, rec *record, max int) []attribute.KeyValue {
	if rec.User != "" || rec.UserID != "" {
		attrs = append(attrs,
			psono.User.String(clip(rec.User, max)),
			psono.UserID.String(clip(rec.UserID, max)))
	}
	return attrs
}

// appendParamsAndKwargs appends the route's parameters and the handler's
// kwargs, each key once (the LoggerProvider of otelaudit.New does not
// de-duplicate keys): one replaces an earlier one of the same key in
// attrs[from:] (a ServeMux wildcard, a parameter, a kwarg). A key is the
// route's (info) where the route names the parameter.
func appendParamsAndKwargs(attrs []attribute.KeyValue, from int, rec *record, info *patternInfo, max int) []attribute.KeyValue {
	keyOf := func(name string, fallback attribute.Key) attribute.Key {
		if info != nil {
			if key, ok := info.KwargKeys[name]; ok {
				return key
			}
		}
		return fallback
	}
	for _, p := range rec.Params {
		attrs = setAttr(attrs, from, keyOf(p.Name, psono.KwargAttr(psono.KwargName(p.Name))), clip(p.Value, max))
	}
	for _, k := range rec.Kwargs {
		attrs = setAttr(attrs, from, keyOf(k.Name, psono.KwargAttr(k.Name)), clip(k.Value, max))
	}
	return attrs
}

// emitRecord emits the audit record: now, with the severity, the event
// (clipped to max) and attrs.
func emitRecord(ctx context.Context, logger log.Logger, sev log.Severity, sevText, event string, max int, attrs []attribute.KeyValue) {
	now := time.Now()
	if e, ok := logger.(attremit.Emitter); ok { // otelaudit.New's: no log.Record in between
		// A copy in a pooled slice: handing the caller's attrs to an
		// interface would move its stack array to the heap each time.
		p := attrPool.Get().(*[]attribute.KeyValue)
		*p = append((*p)[:0], attrs...)
		e.EmitAttributes(ctx, now, sev, sevText, clip(event, max), *p)
		clear(*p) // no strings kept alive by the pool
		attrPool.Put(p)
		return
	}
	logger.Emit(ctx, attremit.Record(now, sev, sevText, clip(event, max), attrs))
}

// attrPool holds the slices emitRecord hands an attremit.Emitter.
var attrPool = sync.Pool{New: func() any { s := make([]attribute.KeyValue, 0, 24); return &s }}
