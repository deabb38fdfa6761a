package instrument

import (
	"context"
	"sync"

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
}

type kwarg struct{ name, value string }

type recordKey struct{}

func fromContext(ctx context.Context) *record {
	r, _ := ctx.Value(recordKey{}).(*record)
	return r
}

// SetEvent sets the event code of the request's audit record, such as
// "LIST_DATASTORE_SUCCESS". Without it the middleware uses a default event
// (see NewHandler). ctx must be the request's context or derived from it;
// otherwise SetEvent does nothing. Like every function here it is safe to
// call from several goroutines; the last call wins.
func SetEvent(ctx context.Context, code string) {
	if r := fromContext(ctx); r != nil {
		r.mu.Lock()
		r.event = code
		r.mu.Unlock()
	}
}

// SetLogger sets the logger of the request's audit record: the component
// that served it, such as "restapi.views.datastore". Without it the
// middleware uses the logger given by WithDefaultLogger.
func SetLogger(ctx context.Context, name string) {
	if r := fromContext(ctx); r != nil {
		r.mu.Lock()
		r.logger = name
		r.mu.Unlock()
	}
}

// SetUser records the authenticated user of the request: its name and its
// id. The record carries user and user_id only after SetUser.
func SetUser(ctx context.Context, name, id string) {
	if r := fromContext(ctx); r != nil {
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
	if r := fromContext(ctx); r != nil {
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
}
