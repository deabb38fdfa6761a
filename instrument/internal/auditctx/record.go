// Package auditctx is the contract that package instrument (the middleware,
// Calls and the setters handlers call) and package instrument/route (what
// router adapters report) share: the audit record of one request or call,
// the context that carries it, the misuse report of a setter called without
// one, and what is derived from a route's template.
package auditctx

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel"

	"github.com/otelaudit/otelaudit/psono"
)

// Record is what a handler and its router tell the middleware about a
// request. The middleware puts one in the request's context (see Context);
// the setters fill it in. Mu guards every field.
type Record struct {
	Mu     sync.Mutex
	Event  string
	Logger string
	User   string
	UserID string
	Kwargs []Kwarg

	// The route, as the first SetRoute of the request reported it.
	Route  *RouteInfo
	Params []Param // its parameters, names as ParamName gives them
}

// A Kwarg is a keyword argument a handler added, its name made valid.
type Kwarg struct{ Name, Value string }

// A Param is a route parameter: its name as ParamName gives it, and its
// value.
type Param struct{ Name, Value string }

type recordKey struct{}

// ScopeKey is the string key under which a framework whose context looks
// up only string keys carries the record.
const ScopeKey = "github.com/otelaudit/otelaudit/instrument.record"

// Context is a context with its record added; it stands for
// context.WithValue(parent, key, rec) in the same allocation as the record.
type Context struct {
	context.Context
	Rec *Record
}

// Value returns the record for the record's key, else what the parent
// holds for key.
func (c *Context) Value(key any) any {
	if key == (recordKey{}) {
		return c.Rec
	}
	return c.Context.Value(key)
}

// FromContext returns the record ctx carries, under its key or ScopeKey,
// or nil.
func FromContext(ctx context.Context) *Record {
	if ctx == nil {
		return nil
	}
	if r, ok := ctx.Value(recordKey{}).(*Record); ok {
		return r
	}
	r, _ := ctx.Value(ScopeKey).(*Record)
	return r
}

// Of returns the record of ctx, or reports (once per calling line) that fn,
// such as "instrument.SetEvent", was called where no record is in scope.
// It must be called by fn itself: the calling line reported is fn's
// caller's.
func Of(ctx context.Context, fn string) *Record {
	if r := FromContext(ctx); r != nil {
		return r
	}
	reportMisuse(fn)
	return nil
}

// SetRoute sets the route and its parameters, unless a route was set
// before: only the first report of a request counts. The record keeps
// params, each name replaced by what ParamName gives for it.
func (r *Record) SetRoute(info *RouteInfo, params []Param) {
	r.Mu.Lock()
	defer r.Mu.Unlock()
	if r.Route != nil {
		return
	}
	for i := range params {
		params[i].Name = ParamName(params[i].Name)
	}
	r.Route, r.Params = info, params
}

// HasRoute reports whether a route was set.
func (r *Record) HasRoute() bool {
	r.Mu.Lock()
	defer r.Mu.Unlock()
	return r.Route != nil
}

// AddKwarg adds a kwarg, its name made valid, replacing the value of one
// of the same name.
func (r *Record) AddKwarg(name, value string) {
	name = psono.KwargName(name)
	r.Mu.Lock()
	defer r.Mu.Unlock()
	for i := range r.Kwargs {
		if r.Kwargs[i].Name == name {
			r.Kwargs[i].Value = value
			return
		}
	}
	r.Kwargs = append(r.Kwargs, Kwarg{name, value})
}

var misuse struct {
	sync.Mutex
	seen map[uintptr]bool
}

// maxMisuseSites bounds how many distinct calling lines are remembered;
// calls from further lines are reported every time.
const maxMisuseSites = 1024

var misuseReporter atomic.Pointer[func(error)]

// SetMisuseReporter sets the function that receives misuse reports; nil
// restores the default, otel.Handle.
func SetMisuseReporter(f func(error)) {
	if f == nil {
		misuseReporter.Store(nil)
		return
	}
	misuseReporter.Store(&f)
}

func reportMisuse(fn string) {
	var pcs [1]uintptr
	runtime.Callers(4, pcs[:]) // reportMisuse, Of, the setter, its caller
	misuse.Lock()
	if misuse.seen[pcs[0]] {
		misuse.Unlock()
		return
	}
	if len(misuse.seen) < maxMisuseSites {
		if misuse.seen == nil {
			misuse.seen = map[uintptr]bool{}
		}
		misuse.seen[pcs[0]] = true
	}
	misuse.Unlock()
	where := "unknown caller"
	if pcs[0] != 0 {
		f, _ := runtime.CallersFrames(pcs[:]).Next()
		where = fmt.Sprintf("%s:%d", f.File, f.Line)
	}
	report := otel.Handle
	if f := misuseReporter.Load(); f != nil {
		report = *f
	}
	report(fmt.Errorf("otelaudit: %s called at %s with a context that holds no audit record "+
		"(the request did not pass through the audit handler, or the context is not derived from its request's); "+
		"the call has no effect (reported once per calling line)", fn, where))
}
