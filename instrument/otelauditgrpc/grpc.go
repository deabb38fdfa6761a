// Package otelauditgrpc records every call a gRPC server serves as one
// otelaudit audit record, written through the Auditor's pipeline (the
// whitelist and blacklist, audit.log, forwarding, sealing) as the same
// Psono line an HTTP request gets:
//
//	srv := grpc.NewServer(
//		grpc.StatsHandler(otelgrpc.NewServerHandler()), // trace and span ids
//		grpc.ChainUnaryInterceptor(otelauditgrpc.UnaryServerInterceptor(auditor), authenticate),
//		grpc.ChainStreamInterceptor(otelauditgrpc.StreamServerInterceptor(auditor), authenticateStream),
//	)
//
// Place the audit interceptors first in each chain (outermost), as the
// audit handler is placed around an HTTP service, so that every call gets
// its record, those an authentication interceptor refuses included, and so
// that the interceptors after it and the handler can fill the record in with
// the call's context: instrument.SetUser (an authentication interceptor
// names the user), SetEvent, SetLogger, AddKwarg and AddKwargValue.
//
// A call's record holds:
//
//   - req_method POST (what gRPC sends on the wire) and req_url the full
//     method, "/grpc.health.v1.Health/Check";
//   - user_ip by Psono's client-IP rule, as for a request: the peer
//     address, or an IP address from incoming metadata, the trusted header
//     (TRUSTED_IP_HEADER, TRUSTED_IP_HEADER_OVERWRITE) or x-forwarded-for
//     with NUM_PROXIES, validated as the HTTP path validates it;
//   - the status: the gRPC code as grpc-gateway's HTTPStatusFromCode maps
//     it to HTTP (see HTTPStatus), written in the line as the Django REST
//     framework name (HTTP_404_NOT_FOUND); Canceled maps to 499, which DRF
//     does not name, and is written HTTP_499;
//   - success True only for OK;
//   - the event SetEvent named, else the full method in upper case with
//     each run of characters other than letters and digits as one '_'
//     (none at either end, as for an HTTP route's default event), plus
//     _SUCCESS for OK or _ERROR otherwise:
//     "/grpc.health.v1.Health/Check" gives
//     GRPC_HEALTH_V1_HEALTH_CHECK_SUCCESS;
//   - the logger SetLogger named, else the service, "grpc.health.v1.Health".
//
// The OpenTelemetry record (forwarded over OTLP) also carries
// rpc.system.name "grpc", rpc.method (the full method without its leading
// '/', as otelgrpc writes it) and rpc.response.status_code, the canonical
// name of the code ("NOT_FOUND", "CANCELLED").
//
// A unary call is recorded when its handler returns, a stream when it ends,
// once, with the code it ended with. A call whose client went away first
// (cancelled it, or let its deadline pass) is recorded with Canceled or
// DeadlineExceeded, what the client saw, whatever the handler returned. A
// handler that panics is recorded with Internal before the panic goes on.
//
// In strict mode (LOGGING_AUDIT_STRICT) a call is refused with Unavailable
// before any later interceptor or the handler runs while the audit log
// cannot be written, and recorded with the event AUDIT_LOG_UNAVAILABLE_ERROR,
// as an HTTP request is refused with 503. A unary call whose record then
// fails to be written gets Unavailable instead of its response; a stream
// whose record fails ends with Unavailable, after the messages it has sent.
//
// Beside otelgrpc.NewServerHandler, which puts each call's span in its
// context before the interceptors run, records carry the call's trace and
// span ids.
//
// The default event comes from the method the call was routed to. A server
// with an UnknownServiceHandler runs its stream interceptors for methods the
// client made up: such a handler should name its event with SetEvent.
//
// This package is its own module, so that a service that does not use gRPC
// never gets grpc-go's server packages in its build.
package otelauditgrpc

import (
	"context"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/otelaudit/otelaudit"
	"github.com/otelaudit/otelaudit/instrument"
)

// Method is the req_method of every call's record: gRPC sends each call as
// an HTTP/2 POST.
const Method = "POST"

// An Option configures the interceptors.
type Option func(*config)

type config struct {
	instrument []instrument.Option
}

// WithInstrumentOptions adds options for the calls' records, applied after
// those the Auditor gives (see the README's gRPC section): for example
// instrument.WithMaxValueLength, or, with a core whose Auditor does not yet
// hand its settings to the interceptors, instrument.WithNumProxies,
// instrument.WithTrustedIPHeader and instrument.WithStrict. Options about
// HTTP only (otelhttp's) have no effect.
func WithInstrumentOptions(opts ...instrument.Option) Option {
	return func(c *config) { c.instrument = append(c.instrument, opts...) }
}

func newCalls(a *otelaudit.Auditor, opts []Option) *instrument.Calls {
	var c config
	for _, o := range opts {
		o(&c)
	}
	return instrument.NewCalls(append(auditorOptions(a), c.instrument...)...)
}

// UnaryServerInterceptor returns an interceptor that records each unary
// call as one audit record through a's pipeline (see the package
// documentation). Chain it first.
func UnaryServerInterceptor(a *otelaudit.Auditor, opts ...Option) grpc.UnaryServerInterceptor {
	calls := newCalls(a, opts)
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		ctx, call, refused := calls.Start(ctx)
		if refused != nil {
			_ = call.End(callInfo(ctx, info.FullMethod, codes.Unavailable))
			return nil, errUnavailable
		}
		done := false
		defer func() {
			if !done { // the handler panicked: record it, let the panic go on
				_ = call.End(callInfo(ctx, info.FullMethod, codes.Internal))
			}
		}()
		resp, err = handler(ctx, req)
		done = true
		if werr := call.End(callInfo(ctx, info.FullMethod, outcome(ctx, err))); werr != nil {
			return nil, errUnavailable
		}
		return resp, err
	}
}

// StreamServerInterceptor returns an interceptor that records each stream
// as one audit record through a's pipeline when it ends (see the package
// documentation). Chain it first.
func StreamServerInterceptor(a *otelaudit.Auditor, opts ...Option) grpc.StreamServerInterceptor {
	calls := newCalls(a, opts)
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, call, refused := calls.Start(ss.Context())
		if refused != nil {
			_ = call.End(callInfo(ctx, info.FullMethod, codes.Unavailable))
			return errUnavailable
		}
		done := false
		defer func() {
			if !done {
				_ = call.End(callInfo(ctx, info.FullMethod, codes.Internal))
			}
		}()
		err := handler(srv, &serverStream{ServerStream: ss, ctx: ctx})
		done = true
		if werr := call.End(callInfo(ctx, info.FullMethod, outcome(ctx, err))); werr != nil {
			return errUnavailable
		}
		return err
	}
}

// errUnavailable answers a call that strict mode refuses.
var errUnavailable = status.Error(codes.Unavailable, "audit log unavailable")

// serverStream is a stream whose context carries the call's audit record.
type serverStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *serverStream) Context() context.Context { return s.ctx }

// outcome returns the code a call ended with: the one its client saw when
// it went away before the server answered (the call's context is done),
// else the code of the handler's error, as grpc-go answers it (a context
// error gives Canceled or DeadlineExceeded, another error that is not a
// status Unknown).
func outcome(ctx context.Context, err error) codes.Code {
	if cerr := ctx.Err(); cerr != nil {
		return status.FromContextError(cerr).Code()
	}
	if err == nil {
		return codes.OK
	}
	if s, ok := status.FromError(err); ok {
		return s.Code()
	}
	return status.FromContextError(err).Code()
}

// callInfo describes a finished call for its record.
func callInfo(ctx context.Context, fullMethod string, code codes.Code) instrument.CallInfo {
	name := strings.TrimPrefix(fullMethod, "/")
	info := instrument.CallInfo{
		Method: Method,
		Path:   fullMethod,
		Status: HTTPStatus(code),
		Header: func(name string) []string { return metadata.ValueFromIncomingContext(ctx, strings.ToLower(name)) },
		Event:  Event(fullMethod, code),
		Logger: Service(fullMethod),
		Attributes: []attribute.KeyValue{
			semconv.RPCSystemNameGRPC,
			semconv.RPCMethod(name),
			semconv.RPCResponseStatusCode(CanonicalCode(code)),
		},
	}
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		info.Peer = p.Addr.String()
	}
	return info
}

// Service returns the service of a full method: "grpc.health.v1.Health"
// for "/grpc.health.v1.Health/Check". A full method without a service
// gives itself without its leading '/'.
func Service(fullMethod string) string {
	name := strings.TrimPrefix(fullMethod, "/")
	if i := strings.LastIndexByte(name, '/'); i > 0 {
		return name[:i]
	}
	return name
}

// Event returns the default event of a call, by the rule of an HTTP
// route's default event (instrument.CallEvent): the full method in upper
// case, each run of characters other than letters and digits as one '_'
// (none at either end), plus _SUCCESS for OK or _ERROR for any other code.
// "/grpc.health.v1.Health/Check" with OK gives
// GRPC_HEALTH_V1_HEALTH_CHECK_SUCCESS.
func Event(fullMethod string, code codes.Code) string {
	return instrument.CallEvent(fullMethod, code == codes.OK)
}

// HTTPStatus returns the HTTP status a gRPC code stands for in the record,
// as grpc-gateway's runtime.HTTPStatusFromCode maps it: OK 200;
// InvalidArgument, FailedPrecondition and OutOfRange 400; Unauthenticated
// 401; PermissionDenied 403; NotFound 404; AlreadyExists and Aborted 409;
// ResourceExhausted 429; Canceled 499 (nginx's "client closed request",
// which DRF does not name: the line says HTTP_499); Unknown, Internal and
// DataLoss 500; Unimplemented 501; Unavailable 503; DeadlineExceeded 504.
// A code outside gRPC's list gives 500.
func HTTPStatus(code codes.Code) int {
	switch code {
	case codes.OK:
		return 200
	case codes.Canceled:
		return 499
	case codes.InvalidArgument, codes.FailedPrecondition, codes.OutOfRange:
		return 400
	case codes.Unauthenticated:
		return 401
	case codes.PermissionDenied:
		return 403
	case codes.NotFound:
		return 404
	case codes.AlreadyExists, codes.Aborted:
		return 409
	case codes.ResourceExhausted:
		return 429
	case codes.Unimplemented:
		return 501
	case codes.Unavailable:
		return 503
	case codes.DeadlineExceeded:
		return 504
	}
	return 500 // Unknown, Internal, DataLoss and codes gRPC does not define
}

// CanonicalCode returns the canonical name of a gRPC code, as the gRPC
// specification writes it and otelgrpc records it in
// rpc.response.status_code: "OK", "CANCELLED", "INVALID_ARGUMENT"; a code
// outside the list gives "CODE(n)".
func CanonicalCode(code codes.Code) string {
	if int(code) < len(canonical) {
		return canonical[code]
	}
	return "CODE(" + strconv.FormatUint(uint64(code), 10) + ")"
}

var canonical = [...]string{
	codes.OK:                 "OK",
	codes.Canceled:           "CANCELLED",
	codes.Unknown:            "UNKNOWN",
	codes.InvalidArgument:    "INVALID_ARGUMENT",
	codes.DeadlineExceeded:   "DEADLINE_EXCEEDED",
	codes.NotFound:           "NOT_FOUND",
	codes.AlreadyExists:      "ALREADY_EXISTS",
	codes.PermissionDenied:   "PERMISSION_DENIED",
	codes.ResourceExhausted:  "RESOURCE_EXHAUSTED",
	codes.FailedPrecondition: "FAILED_PRECONDITION",
	codes.Aborted:            "ABORTED",
	codes.OutOfRange:         "OUT_OF_RANGE",
	codes.Unimplemented:      "UNIMPLEMENTED",
	codes.Internal:           "INTERNAL",
	codes.Unavailable:        "UNAVAILABLE",
	codes.DataLoss:           "DATA_LOSS",
	codes.Unauthenticated:    "UNAUTHENTICATED",
}
