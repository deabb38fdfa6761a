package instrument

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel"

	"github.com/otelaudit/otelaudit/psono"
)

// record is what a handler tells the middleware about its request. The
// middleware puts one in the request's context; the Set and Add functions
// fill it in.
type record struct {
	mu     sync.Mutex
	event  string
	logger string
	user   string
	userID string
	kwargs []kwarg

	// The route, as the first SetRoute of the request reported it.
	route  *patternInfo
	params []Param // its parameters, names as ParamName gives them
}

type kwarg struct{ name, value string }

type recordKey struct{}

// ScopeKey is the string key under which a framework whose context looks
// up only string keys carries the request's audit record (gin's c.Keys; see
// Carry). Only values this package made are ever used from it.
const ScopeKey = "github.com/otelaudit/otelaudit/instrument.record"

func fromContext(ctx context.Context) *record {
	if ctx == nil {
		return nil
	}
	if r, ok := ctx.Value(recordKey{}).(*record); ok {
		return r
	}
	r, _ := ctx.Value(ScopeKey).(*record)
	return r
}

// Carry hands the audit record of ctx to set under ScopeKey, for a
// framework whose own context looks up only string keys: the gin adapter
// calls Carry(c.Request.Context(), c.Set) so that the setters accept the
// *gin.Context. It does nothing when ctx holds no record.
func Carry(ctx context.Context, set func(key any, value any)) {
	if r := fromContext(ctx); r != nil {
		set(ScopeKey, r)
	}
}

// InScope reports whether ctx carries a request's audit record, that is,
// whether the setters called with ctx have an effect.
func InScope(ctx context.Context) bool { return fromContext(ctx) != nil }

// recordOf returns the record of ctx, or reports (once per calling line)
// that fn was called where no audit record is in scope.
func recordOf(ctx context.Context, fn string) *record {
	if r := fromContext(ctx); r != nil {
		return r
	}
	reportMisuse(fn)
	return nil
}

var misuse struct {
	sync.Mutex
	seen map[uintptr]bool
}

// maxMisuseSites bounds how many distinct calling lines are remembered;
// calls from further lines are reported every time.
const maxMisuseSites = 1024

var misuseReporter atomic.Pointer[func(error)]

// SetMisuseReporter sets the function that receives the report of a setter
// called where no audit record is in scope; nil restores the default,
// otel.Handle (the OpenTelemetry error handler, which logs to stderr unless
// the program set another). Each calling line is reported once per process.
func SetMisuseReporter(f func(error)) {
	if f == nil {
		misuseReporter.Store(nil)
		return
	}
	misuseReporter.Store(&f)
}

func reportMisuse(fn string) {
	var pcs [1]uintptr
	runtime.Callers(4, pcs[:]) // reportMisuse, recordOf, the setter, its caller
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
	report(fmt.Errorf("otelaudit: instrument.%s called at %s with a context that holds no audit record "+
		"(the request did not pass through the audit handler, or the context is not derived from its request's); "+
		"the call has no effect (reported once per calling line)", fn, where))
}

// SetEvent sets the event code of the request's audit record, such as
// "LIST_DATASTORE_SUCCESS". The record carries it in upper case (see
// psono.EventCode), so "list_datastore_success" is recorded, and matched by the
// whitelist and blacklist, as LIST_DATASTORE_SUCCESS. Without it the
// middleware uses a default event (see NewHandler). ctx must be the request's context or derived from it
// (a *gin.Context behind the gin adapter is one); otherwise SetEvent does
// nothing and the misuse is reported once per calling line (see
// SetMisuseReporter). Like every function here it is safe to call from several
// goroutines; the last call wins.
func SetEvent(ctx context.Context, code string) {
	if r := recordOf(ctx, "SetEvent"); r != nil {
		r.mu.Lock()
		r.event = code
		r.mu.Unlock()
	}
}

// SetLogger sets the logger of the request's audit record: the component
// that served it, such as "restapi.views.datastore". Without it the
// middleware uses the logger given by WithDefaultLogger.
func SetLogger(ctx context.Context, name string) {
	if r := recordOf(ctx, "SetLogger"); r != nil {
		r.mu.Lock()
		r.logger = name
		r.mu.Unlock()
	}
}

// SetUser records the authenticated user of the request: its name and its
// id. The record carries user and user_id only after SetUser. A typed id
// (a number, a UUID type) is written with psono.FormatValue(id).
func SetUser(ctx context.Context, name, id string) {
	if r := recordOf(ctx, "SetUser"); r != nil {
		r.mu.Lock()
		r.user, r.userID = name, id
		r.mu.Unlock()
	}
}

// AddKwarg adds a keyword argument to the request's audit record; it is
// written as kwarg_<name>=<value> after the path parameters of the matched
// route. Adding a name again replaces its value, and a name equal to a path
// parameter's replaces that parameter's value. The name must satisfy
// psono.ValidKwargName ([A-Za-z0-9_], at most 64 characters); characters
// outside that alphabet are replaced by '_', so a name can never change how
// a line splits into fields.
func AddKwarg(ctx context.Context, name, value string) {
	if r := recordOf(ctx, "AddKwarg"); r != nil {
		r.addKwarg(name, value)
	}
}

// AddKwargValue is AddKwarg for a typed value, written as Python's str()
// writes it, as Psono does: see psono.FormatValue for the mapping of each Go type.
func AddKwargValue(ctx context.Context, name string, value any) {
	if r := recordOf(ctx, "AddKwargValue"); r != nil {
		r.addKwarg(name, psono.FormatValue(value))
	}
}

func (r *record) addKwarg(name, value string) {
	name = psono.KwargName(name)
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.kwargs {
		if r.kwargs[i].name == name {
			r.kwargs[i].value = value
			return
		}
	}
	r.kwargs = append(r.kwargs, kwarg{name, value})
}
