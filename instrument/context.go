package instrument

import (
	"context"

	"github.com/otelaudit/otelaudit/instrument/internal/auditctx"
	"github.com/otelaudit/otelaudit/psono"
)

// record is what a handler tells the middleware about its request. The
// middleware puts one in the request's context; the Set and Add functions
// fill it in.
type record = auditctx.Record

// recordContext is the request's context with its record added.
type recordContext = auditctx.Context

func fromContext(ctx context.Context) *record { return auditctx.FromContext(ctx) }

// InScope reports whether ctx carries a request's audit record, that is,
// whether the setters called with ctx have an effect.
func InScope(ctx context.Context) bool { return fromContext(ctx) != nil }

// SetMisuseReporter sets the function that receives the report of a setter
// called where no audit record is in scope; nil restores the default,
// otel.Handle (the OpenTelemetry error handler, which logs to stderr unless
// the program set another). Each calling line is reported once per process.
func SetMisuseReporter(f func(error)) { auditctx.SetMisuseReporter(f) }

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
	if r := auditctx.Of(ctx, "instrument.SetEvent"); r != nil {
		r.Mu.Lock()
		r.Event = code
		r.Mu.Unlock()
	}
}

// SetLogger sets the logger of the request's audit record: the component
// that served it, such as "restapi.views.datastore". Without it the
// middleware uses the logger given by WithDefaultLogger.
func SetLogger(ctx context.Context, name string) {
	if r := auditctx.Of(ctx, "instrument.SetLogger"); r != nil {
		r.Mu.Lock()
		r.Logger = name
		r.Mu.Unlock()
	}
}

// SetUser records the authenticated user of the request: its name and its
// id. The record carries user and user_id only after SetUser. A typed id
// (a number, a UUID type) is written with psono.FormatValue(id).
func SetUser(ctx context.Context, name, id string) {
	if r := auditctx.Of(ctx, "instrument.SetUser"); r != nil {
		r.Mu.Lock()
		r.User, r.UserID = name, id
		r.Mu.Unlock()
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
	if r := auditctx.Of(ctx, "instrument.AddKwarg"); r != nil {
		r.AddKwarg(name, value)
	}
}

// AddKwargValue is AddKwarg for a typed value, written as Python's str()
// writes it, as Psono does: see psono.FormatValue for the mapping of each Go type.
func AddKwargValue(ctx context.Context, name string, value any) {
	if r := auditctx.Of(ctx, "instrument.AddKwargValue"); r != nil {
		r.AddKwarg(name, psono.FormatValue(value))
	}
}
