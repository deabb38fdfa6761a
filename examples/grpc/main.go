// Command grpc is the otelaudit gRPC demo: a gRPC server whose every call is
// written to audit.log as a Psono audit line, by the interceptors of
// otelauditgrpc.
//
//	cd examples/grpc && go run . [-settings FILE] [-listen ADDR]
//
// It serves the standard health service (grpc.health.v1.Health) and a small
// service of its own, otelaudit.demo.v1.Notes: Get (unary) reads a note,
// List (server streaming) sends every note. Both want the metadata
// "authorization: Bearer TOKEN" with a token of the demo's users
// (demo-token-alice, demo-token-bob): an authentication interceptor, chained
// after the audit one, names the user on the call's record, or refuses the
// call with Unauthenticated (which is recorded too). The health service needs
// no token. The settings are -settings FILE, else
// ../server/settings.yaml (audit.log in ./audit-log). SIGINT and SIGTERM stop
// the server gracefully and flush every record.
//
// The services are described by hand on the protobuf well-known wrapper
// types, so the demo needs no generated code:
//
//	grpcurl -plaintext -d '{}' 127.0.0.1:50051 grpc.health.v1.Health/Check
//
// gives the line (host name and time aside)
//
//	logger=grpc.health.v1.Health, user_ip=127.0.0.1, req_method=POST, req_url=/grpc.health.v1.Health/Check, success=True, hostname=..., status=HTTP_200_OK, event=GRPC_HEALTH_V1_HEALTH_CHECK_SUCCESS
//
// It is its own module, so that grpc's server packages stay out of the
// build of otelaudit itself.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/otelaudit/otelaudit"
	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/instrument/otelauditgrpc"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "grpc:", err)
		os.Exit(1)
	}
}

// run serves until ctx is done. When ready is not nil it receives the
// listening address once the server accepts connections.
func run(ctx context.Context, args []string, logw io.Writer, ready chan<- string) error {
	fs := flag.NewFlagSet("grpc", flag.ContinueOnError)
	fs.SetOutput(logw)
	settings := fs.String("settings", "../server/settings.yaml", "Psono settings file")
	listen := fs.String("listen", "127.0.0.1:50051", "address to serve gRPC on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := config.Load(*settings)
	if err != nil {
		return err
	}
	auditor, err := otelaudit.New(s, otelaudit.WithServiceName("otelaudit-grpc-demo"))
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		_ = auditor.Shutdown(context.Background())
		return err
	}
	srv := newServer(auditor)
	fmt.Fprintf(logw, "grpc: serving on %s, audit log %s\n", lis.Addr(), s.LogPath())
	if ready != nil {
		ready <- lis.Addr().String()
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	select {
	case <-ctx.Done():
		srv.GracefulStop() // the calls in flight end, and are recorded
		err = <-served
	case err = <-served:
	}
	return errors.Join(err, auditor.Shutdown(context.Background()))
}

// newServer returns the demo's server: otelgrpc's stats handler (each
// call's span, whose ids its record carries), then in each chain the audit
// interceptor first and authentication after it.
func newServer(auditor *otelaudit.Auditor) *grpc.Server {
	srv := grpc.NewServer(
		grpc.StatsHandler(otelgrpc.NewServerHandler()),
		grpc.ChainUnaryInterceptor(otelauditgrpc.UnaryServerInterceptor(auditor), authUnary),
		grpc.ChainStreamInterceptor(otelauditgrpc.StreamServerInterceptor(auditor), authStream),
	)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	srv.RegisterService(&notesDesc, newNotes())
	return srv
}

// users are the demo's bearer tokens.
var users = map[string]struct{ name, id string }{
	"demo-token-alice": {"alice@example.com", "4f1d7a52-0d4b-4f5e-9d3c-0c1f2e3a4b5c"},
	"demo-token-bob":   {"bob@example.com", "9b2e6c1d-3a4f-4e8b-8c7d-1e2f3a4b5c6d"},
}

// authenticate names the call's user on its audit record from the bearer
// token in its metadata. The health service is open; every other call
// without a known token is refused with Unauthenticated.
func authenticate(ctx context.Context, fullMethod string) error {
	if strings.HasPrefix(fullMethod, "/grpc.health.v1.Health/") {
		return nil
	}
	for _, v := range metadata.ValueFromIncomingContext(ctx, "authorization") {
		if u, ok := users[strings.TrimPrefix(v, "Bearer ")]; ok {
			instrument.SetUser(ctx, u.name, u.id)
			return nil
		}
	}
	return status.Error(codes.Unauthenticated, "a bearer token is needed")
}

func authUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if err := authenticate(ctx, info.FullMethod); err != nil {
		return nil, err
	}
	return h(ctx, req)
}

func authStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if err := authenticate(ss.Context(), info.FullMethod); err != nil {
		return err
	}
	return h(srv, ss)
}

// notes is the demo's own service: a fixed set of notes.
type notes struct{ byID map[string]string }

func newNotes() *notes {
	return &notes{byID: map[string]string{"1": "buy milk", "2": "call Bob", "3": "water the plants"}}
}

// get reads one note. Its record gets the default event
// (OTELAUDIT_DEMO_V1_NOTES_GET_SUCCESS or _ERROR) and the note's id as
// kwarg_note_id.
func (n *notes) get(ctx context.Context, id *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
	instrument.AddKwarg(ctx, "note_id", id.GetValue())
	text, ok := n.byID[id.GetValue()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "no note %q", id.GetValue())
	}
	return wrapperspb.String(text), nil
}

// list sends every note. It names its event as a Psono view would,
// LIST_NOTES_SUCCESS, and records how many it sent.
func (n *notes) list(_ *wrapperspb.StringValue, ss grpc.ServerStream) error {
	ids := make([]string, 0, len(n.byID))
	for id := range n.byID {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if err := ss.SendMsg(wrapperspb.String(id + ": " + n.byID[id])); err != nil {
			return err
		}
	}
	instrument.SetEvent(ss.Context(), "LIST_NOTES_SUCCESS")
	instrument.AddKwargValue(ss.Context(), "count", len(ids))
	return nil
}

// notesDesc describes otelaudit.demo.v1.Notes by hand, on
// wrapperspb.StringValue, as protoc-gen-go-grpc would from
//
//	service Notes {
//	  rpc Get(google.protobuf.StringValue) returns (google.protobuf.StringValue);
//	  rpc List(google.protobuf.StringValue) returns (stream google.protobuf.StringValue);
//	}
var notesDesc = grpc.ServiceDesc{
	ServiceName: "otelaudit.demo.v1.Notes",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Get",
		Handler: func(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.StringValue)
			if err := dec(in); err != nil {
				return nil, err
			}
			h := func(ctx context.Context, req any) (any, error) {
				return srv.(*notes).get(ctx, req.(*wrapperspb.StringValue))
			}
			if icpt == nil {
				return h(ctx, in)
			}
			return icpt(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: "/otelaudit.demo.v1.Notes/Get"}, h)
		},
	}},
	Streams: []grpc.StreamDesc{{
		StreamName:    "List",
		ServerStreams: true,
		Handler: func(srv any, ss grpc.ServerStream) error {
			in := new(wrapperspb.StringValue)
			if err := ss.RecvMsg(in); err != nil {
				return err
			}
			return srv.(*notes).list(in, ss)
		},
	}},
}
