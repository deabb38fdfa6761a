package instrument

import (
	"context"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"

	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/receipt"
)

// DefaultEventLogger is the logger of an Event that names none.
const DefaultEventLogger = "otelaudit.event"

// An Event is an audit event that is not an HTTP request: what a background
// job, a scheduled task or an admin command did. Recorder.Record writes it
// through the same pipeline as the requests' records (filter, audit.log,
// forwarding).
type Event struct {
	// Event is the event code, such as "DELETE_EXPIRED_SHARES_SUCCESS",
	// recorded in upper case (psono.EventCode). Empty gives EVENT_SUCCESS or
	// EVENT_ERROR.
	Event string
	// Logger names the component, such as "jobs.cleanup"; empty gives
	// DefaultEventLogger.
	Logger string
	// User and UserID: the user on whose behalf it happened; the line
	// carries user and user_id when either is set.
	User, UserID string
	// Kwargs, in order; each value is written by psono.FormatValue.
	Kwargs []Kwarg
	// Success is written as success=True or success=False; it also picks
	// the severity (INFO or WARN).
	Success bool
}

// A Kwarg is a keyword argument of an Event. Its name is mapped into
// [A-Za-z0-9_] as AddKwarg maps it; its value is written by psono.FormatValue.
type Kwarg struct {
	Name  string
	Value any
}

// A Recorder records Events. Its methods are safe for concurrent use.
type Recorder struct {
	logger log.Logger
	host   string
	max    int
}

// NewRecorder returns a Recorder emitting to the LoggerProvider of
// WithLoggerProvider (default: the global one), with the host name of
// WithHostName (default: FQDN) and the value limit of WithMaxValueLength.
// Other options do not apply to events. otelaudit.Auditor.Record uses one
// bound to the Auditor's pipeline.
func NewRecorder(opts ...Option) *Recorder {
	c := config{maxValueLength: DefaultMaxValueLength}
	for _, o := range opts {
		o(&c)
	}
	if c.lp == nil {
		c.lp = otel.GetLoggerProvider()
	}
	if c.hostName == "" {
		c.hostName = FQDN()
	}
	return &Recorder{logger: c.lp.Logger(ScopeName), host: clip(c.hostName, c.maxValueLength), max: c.maxValueLength}
}

// Record emits ev with ctx, so an event recorded while a request is served
// carries that request's trace and span ids. Its line holds the fields of a
// request's line in the same order, with None where there is no request:
//
//	logger=jobs.cleanup, user_ip=None, req_method=None, req_url=None, success=True, hostname=web-1.example.com, status=None, event=DELETE_EXPIRED_SHARES_SUCCESS, kwarg_count=3
//
// Record returns the error of a synchronous audit.log write that failed
// (durability write or fsync); nil when the record was written, filtered out
// by the whitelist or blacklist, or buffered.
func (rc *Recorder) Record(ctx context.Context, ev Event) error {
	if ctx == nil {
		ctx = context.Background()
	}
	event := psono.EventCode(ev.Event)
	if event == "" {
		event = "EVENT_ERROR"
		if ev.Success {
			event = "EVENT_SUCCESS"
		}
	}
	sev, sevText := log.SeverityInfo, "INFO"
	if !ev.Success {
		sev, sevText = log.SeverityWarn, "WARN"
	}
	if !rc.logger.Enabled(ctx, log.EnabledParameters{Severity: sev, EventName: event}) {
		return nil
	}
	logger := ev.Logger
	if logger == "" {
		logger = DefaultEventLogger
	}
	attrs := make([]attribute.KeyValue, 0, 5+len(ev.Kwargs))
	attrs = append(attrs,
		psono.Logger.String(clip(logger, rc.max)),
		psono.Success.Bool(ev.Success),
		psono.Hostname.String(rc.host))
	if ev.User != "" || ev.UserID != "" {
		attrs = append(attrs,
			psono.User.String(clip(ev.User, rc.max)),
			psono.UserID.String(clip(ev.UserID, rc.max)))
	}
	kwargs := len(attrs)
	for _, k := range ev.Kwargs {
		attrs = setAttr(attrs, kwargs, psono.KwargAttr(psono.KwargName(k.Name)), clip(psono.FormatValue(k.Value), rc.max))
	}

	var lr log.Record
	now := time.Now()
	lr.SetTimestamp(now)
	lr.SetObservedTimestamp(now)
	lr.SetSeverity(sev)
	lr.SetSeverityText(sevText)
	lr.SetEventName(clip(event, rc.max))
	lr.AddAttributes(attrs...)
	ctx, rcpt := receipt.NewContext(ctx)
	rc.logger.Emit(ctx, lr)
	_, err := rcpt.Written()
	return err
}
