package otelauditgrpc_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/otelaudit/otelaudit"
	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/instrument"
	"github.com/otelaudit/otelaudit/instrument/otelauditgrpc"
	"github.com/otelaudit/otelaudit/psono"
	"github.com/otelaudit/otelaudit/sdklogtest"
)

// The test service, described by hand (no generated code): a unary method
// and a server-streaming one, on wrapperspb.StringValue.
const (
	callMethod = "/otelaudit.test.v1.Test/Call"
	listMethod = "/otelaudit.test.v1.Test/List"
)

// testService answers by its request's value:
//
//   - "code:NotFound" fails with that code (any name of codes.Code's
//     String), "code:OK" succeeds;
//   - "event:X" names the event X; "kwarg" adds kwarg_note=x;
//   - "during" runs the function in during;
//   - "span" adds kwarg_span with its context's span id;
//   - "block" (List) sends one message, then waits until the client goes
//     away and returns the context's error.
type testService struct {
	blocked chan struct{} // List "block" sent its message
}

func (s *testService) call(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
	if err := act(ctx, in.GetValue()); err != nil {
		return nil, err
	}
	return wrapperspb.String("ok"), nil
}

func (s *testService) list(in *wrapperspb.StringValue, ss grpc.ServerStream) error {
	for i := range 3 {
		if err := ss.SendMsg(wrapperspb.String(strings.Repeat("x", i+1))); err != nil {
			return err
		}
		if in.GetValue() == "block" {
			s.blocked <- struct{}{}
			<-ss.Context().Done()
			return ss.Context().Err()
		}
	}
	return act(ss.Context(), in.GetValue())
}

func act(ctx context.Context, v string) error {
	switch {
	case strings.HasPrefix(v, "code:"):
		name := strings.TrimPrefix(v, "code:")
		for c := codes.OK; c <= codes.Unauthenticated; c++ {
			if c.String() == name {
				if c == codes.OK {
					return nil
				}
				return status.Error(c, "as asked")
			}
		}
		return errors.New("unknown code " + name) // a plain error: Unknown
	case strings.HasPrefix(v, "event:"):
		instrument.SetEvent(ctx, strings.TrimPrefix(v, "event:"))
	case v == "kwarg":
		instrument.AddKwarg(ctx, "note", "x")
	case v == "during":
		if f := during.Swap(nil); f != nil {
			(*f)()
		}
	case v == "span":
		instrument.AddKwarg(ctx, "span", trace.SpanContextFromContext(ctx).SpanID().String())
	}
	return nil
}

// during is run by the next call whose value is "during".
var during atomic.Pointer[func()]

var testDesc = grpc.ServiceDesc{
	ServiceName: "otelaudit.test.v1.Test",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Call",
		Handler: func(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.StringValue)
			if err := dec(in); err != nil {
				return nil, err
			}
			h := func(ctx context.Context, req any) (any, error) {
				return srv.(*testService).call(ctx, req.(*wrapperspb.StringValue))
			}
			if icpt == nil {
				return h(ctx, in)
			}
			return icpt(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: callMethod}, h)
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
			return srv.(*testService).list(in, ss)
		},
	}},
}

// authenticate names the user of a call whose metadata says
// "authorization: Bearer NAME", and refuses "Bearer intruder" with
// Unauthenticated before the handler runs.
func authenticate(ctx context.Context) error {
	for _, v := range metadata.ValueFromIncomingContext(ctx, "authorization") {
		name, ok := strings.CutPrefix(v, "Bearer ")
		if !ok || name == "intruder" {
			return status.Error(codes.Unauthenticated, "who are you")
		}
		instrument.SetUser(ctx, name, "id-"+name)
	}
	return nil
}

func authUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if err := authenticate(ctx); err != nil {
		return nil, err
	}
	return h(ctx, req)
}

func authStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if err := authenticate(ss.Context()); err != nil {
		return err
	}
	return h(srv, ss)
}

// server is a gRPC server on a loopback TCP port behind the audit
// interceptors of an Auditor that writes audit.log in a new folder and
// forwards its records to fwd.
type server struct {
	auditor  *otelaudit.Auditor
	settings config.Settings
	conn     *grpc.ClientConn
	svc      *testService
	fwd      *sdklogtest.Recorder
	tp       *sdktrace.TracerProvider
	ran      atomic.Int64  // calls that passed the auth interceptor
	ended    chan struct{} // a stream's interceptors returned
	shutdown func()
}

type setup struct {
	adjust func(*config.Settings)
	opts   []otelauditgrpc.Option
	// envForward forwards as the OTEL_EXPORTER_OTLP_* variables say,
	// instead of to the server's fwd.
	envForward bool
}

func start(t *testing.T, st setup) *server {
	t.Helper()
	s := config.Default()
	s.Enabled, s.Folder = true, t.TempDir()
	if st.adjust != nil {
		st.adjust(&s)
	}
	fwd := &sdklogtest.Recorder{}
	aopts := []otelaudit.Option{otelaudit.WithHostName("grpc-1"), otelaudit.WithErrorLog(func(error) {}), otelaudit.WithFallback(nil)}
	if !st.envForward {
		aopts = append(aopts, otelaudit.WithForwardExporter(fwd))
	}
	a, err := otelaudit.New(s, aopts...)
	if err != nil {
		t.Fatal(err)
	}
	opts := append(settingsOptions(a, s), st.opts...)
	srv := &server{auditor: a, settings: s, fwd: fwd, svc: &testService{blocked: make(chan struct{}, 1)},
		tp: sdktrace.NewTracerProvider(), ended: make(chan struct{}, 1)}
	gs := grpc.NewServer(
		grpc.StatsHandler(otelgrpc.NewServerHandler(otelgrpc.WithTracerProvider(srv.tp))),
		grpc.ChainUnaryInterceptor(otelauditgrpc.UnaryServerInterceptor(a, opts...), authUnary,
			func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
				srv.ran.Add(1)
				return h(ctx, req)
			}),
		grpc.ChainStreamInterceptor(
			func(s any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
				defer func() { srv.ended <- struct{}{} }()
				return h(s, ss)
			},
			otelauditgrpc.StreamServerInterceptor(a, opts...), authStream,
			func(s any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
				srv.ran.Add(1)
				return h(s, ss)
			}),
	)
	gs.RegisterService(&testDesc, srv.svc)
	healthpb.RegisterHealthServer(gs, health.NewServer())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- gs.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	srv.conn = conn
	done := false
	srv.shutdown = func() {
		if done {
			return
		}
		done = true
		conn.Close()
		gs.Stop()
		if err := <-served; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			t.Errorf("Serve: %v", err)
		}
		if err := a.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		_ = srv.tp.Shutdown(context.Background())
	}
	t.Cleanup(srv.shutdown)
	return srv
}

// settingsOptions gives the interceptors the client-IP settings of s when
// the Auditor does not hand them over itself (a core without
// Auditor.InstrumentOptions).
func settingsOptions(a *otelaudit.Auditor, s config.Settings) []otelauditgrpc.Option {
	if handsSettings(a) {
		return nil
	}
	opts := []instrument.Option{instrument.WithHostName("grpc-1")}
	if s.NumProxies > 0 {
		opts = append(opts, instrument.WithNumProxies(s.NumProxies))
	}
	if h := s.TrustedIPHeaderName(); h != "" {
		opts = append(opts, instrument.WithTrustedIPHeader(h))
	}
	if h := s.TrustedIPHeaderOverwriteName(); h != "" {
		opts = append(opts, instrument.WithTrustedIPHeaderOverwrite(h))
	}
	return []otelauditgrpc.Option{otelauditgrpc.WithInstrumentOptions(opts...)}
}

func handsSettings(a *otelaudit.Auditor) bool {
	_, ok := any(a).(interface{ InstrumentOptions() []instrument.Option })
	return ok
}

// unary calls Call with value v and the metadata md (key, value pairs).
func (s *server) unary(t *testing.T, v string, md ...string) codes.Code {
	t.Helper()
	ctx := metadata.AppendToOutgoingContext(context.Background(), md...)
	err := s.conn.Invoke(ctx, callMethod, wrapperspb.String(v), new(wrapperspb.StringValue))
	return status.Code(err)
}

// stream calls List with value v and reads it to its end; it returns the
// number of messages and the code the stream ended with.
func (s *server) stream(t *testing.T, v string, md ...string) (int, codes.Code) {
	t.Helper()
	ctx := metadata.AppendToOutgoingContext(context.Background(), md...)
	cs, err := s.conn.NewStream(ctx, &testDesc.Streams[0], listMethod)
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.SendMsg(wrapperspb.String(v)); err != nil {
		t.Fatal(err)
	}
	if err := cs.CloseSend(); err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		if err := cs.RecvMsg(new(wrapperspb.StringValue)); err != nil {
			<-s.ended // the record is written before the interceptors return
			if err == io.EOF {
				return n, codes.OK
			}
			return n, status.Code(err)
		}
		n++
	}
}

// lines returns audit.log's lines, parsed.
func (s *server) lines(t *testing.T) []psono.Line {
	t.Helper()
	data, err := os.ReadFile(s.settings.LogPath())
	if err != nil {
		t.Fatal(err)
	}
	var out []psono.Line
	for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if l == "" {
			continue
		}
		pl, err := psono.Parse(l)
		if err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		out = append(out, pl)
	}
	return out
}

// last returns audit.log's last line.
func (s *server) last(t *testing.T) psono.Line {
	t.Helper()
	l := s.lines(t)
	if len(l) == 0 {
		t.Fatal("audit.log is empty")
	}
	return l[len(l)-1]
}

// want checks the fields of a line.
func want(t *testing.T, l psono.Line, fields map[string]string) {
	t.Helper()
	for k, v := range fields {
		got, ok := l.Get(k)
		switch {
		case v == "<none>" && ok:
			t.Errorf("%s=%s, want none in %s", k, got, l)
		case v != "<none>" && got != v:
			t.Errorf("%s=%q, want %q in %s", k, got, v, l)
		}
	}
}

// forwarded shuts the server and the Auditor down and returns the records
// the forwarder delivered.
func (s *server) forwarded(t *testing.T) []sdklog.Record {
	t.Helper()
	s.shutdown()
	return s.fwd.Records()
}

func attrsOf(r sdklog.Record) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	r.WalkAttributes(func(kv attribute.KeyValue) bool { m[kv.Key] = kv.Value; return true })
	return m
}

// TestCodes: every gRPC code, unary and server-stream, gives its line with
// the mapped status, success only for OK and the default event and logger;
// the forwarded records carry the rpc.* attributes.
func TestCodes(t *testing.T) {
	tests := []struct {
		code   codes.Code
		status string
	}{
		{codes.OK, "HTTP_200_OK"},
		{codes.Canceled, "HTTP_499"},
		{codes.Unknown, "HTTP_500_INTERNAL_SERVER_ERROR"},
		{codes.InvalidArgument, "HTTP_400_BAD_REQUEST"},
		{codes.DeadlineExceeded, "HTTP_504_GATEWAY_TIMEOUT"},
		{codes.NotFound, "HTTP_404_NOT_FOUND"},
		{codes.AlreadyExists, "HTTP_409_CONFLICT"},
		{codes.PermissionDenied, "HTTP_403_FORBIDDEN"},
		{codes.ResourceExhausted, "HTTP_429_TOO_MANY_REQUESTS"},
		{codes.FailedPrecondition, "HTTP_400_BAD_REQUEST"},
		{codes.Aborted, "HTTP_409_CONFLICT"},
		{codes.OutOfRange, "HTTP_400_BAD_REQUEST"},
		{codes.Unimplemented, "HTTP_501_NOT_IMPLEMENTED"},
		{codes.Internal, "HTTP_500_INTERNAL_SERVER_ERROR"},
		{codes.Unavailable, "HTTP_503_SERVICE_UNAVAILABLE"},
		{codes.DataLoss, "HTTP_500_INTERNAL_SERVER_ERROR"},
		{codes.Unauthenticated, "HTTP_401_UNAUTHORIZED"},
	}
	srv := start(t, setup{})
	type sent struct {
		method string
		code   codes.Code
	}
	var calls []sent
	for _, tt := range tests {
		t.Run(tt.code.String(), func(t *testing.T) {
			success, suffix := "False", "_ERROR"
			if tt.code == codes.OK {
				success, suffix = "True", "_SUCCESS"
			}
			if got := srv.unary(t, "code:"+tt.code.String()); got != tt.code {
				t.Fatalf("unary call answered %v, want %v", got, tt.code)
			}
			want(t, srv.last(t), map[string]string{
				"logger": "otelaudit.test.v1.Test", "user_ip": "127.0.0.1", "req_method": "POST",
				"req_url": callMethod, "success": success, "hostname": "grpc-1", "status": tt.status,
				"event": "OTELAUDIT_TEST_V1_TEST_CALL" + suffix, "user": "<none>",
			})
			n, got := srv.stream(t, "code:"+tt.code.String())
			if got != tt.code || n != 3 {
				t.Fatalf("stream ended with %v after %d messages, want %v after 3", got, n, tt.code)
			}
			want(t, srv.last(t), map[string]string{
				"logger": "otelaudit.test.v1.Test", "req_method": "POST", "req_url": listMethod,
				"success": success, "status": tt.status, "event": "OTELAUDIT_TEST_V1_TEST_LIST" + suffix,
			})
			calls = append(calls, sent{callMethod, tt.code}, sent{listMethod, tt.code})
		})
	}
	if got := len(srv.lines(t)); got != len(calls) {
		t.Errorf("audit.log holds %d lines for %d calls", got, len(calls))
	}

	recs := srv.forwarded(t)
	if len(recs) != len(calls) {
		t.Fatalf("%d records forwarded for %d calls", len(recs), len(calls))
	}
	for i, r := range recs {
		a := attrsOf(r)
		c := calls[i]
		if a["rpc.system.name"].AsString() != "grpc" || a["rpc.method"].AsString() != c.method[1:] ||
			a["rpc.response.status_code"].AsString() != otelauditgrpc.CanonicalCode(c.code) ||
			a[psono.Status.Attr].AsInt64() != int64(otelauditgrpc.HTTPStatus(c.code)) {
			t.Errorf("record %d (%s %v): %v", i, c.method, c.code, a)
		}
	}
}

// TestHealth: the standard health service gets its default events and
// logger, unary (Check) and server-stream (Watch, which the client ends).
func TestHealth(t *testing.T) {
	srv := start(t, setup{})
	hc := healthpb.NewHealthClient(srv.conn)
	if _, err := hc.Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	want(t, srv.last(t), map[string]string{
		"logger": "grpc.health.v1.Health", "req_url": "/grpc.health.v1.Health/Check",
		"event": "GRPC_HEALTH_V1_HEALTH_CHECK_SUCCESS", "status": "HTTP_200_OK", "success": "True",
	})
	if _, err := hc.Check(context.Background(), &healthpb.HealthCheckRequest{Service: "nope"}); status.Code(err) != codes.NotFound {
		t.Fatalf("Check of an unknown service: %v", err)
	}
	want(t, srv.last(t), map[string]string{
		"event": "GRPC_HEALTH_V1_HEALTH_CHECK_ERROR", "status": "HTTP_404_NOT_FOUND", "success": "False",
	})

	ctx, cancel := context.WithCancel(context.Background())
	w, err := hc.Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Recv(); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-srv.ended
	want(t, srv.last(t), map[string]string{
		"logger": "grpc.health.v1.Health", "req_url": "/grpc.health.v1.Health/Watch",
		"event": "GRPC_HEALTH_V1_HEALTH_WATCH_ERROR", "status": "HTTP_499", "success": "False",
	})
}

// TestStreamCancel: a stream the client cancels is recorded once, when it
// ends, with Canceled.
func TestStreamCancel(t *testing.T) {
	srv := start(t, setup{})
	ctx, cancel := context.WithCancel(context.Background())
	cs, err := srv.conn.NewStream(ctx, &testDesc.Streams[0], listMethod)
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.SendMsg(wrapperspb.String("block")); err != nil {
		t.Fatal(err)
	}
	if err := cs.RecvMsg(new(wrapperspb.StringValue)); err != nil {
		t.Fatal(err)
	}
	<-srv.svc.blocked
	if n := len(srv.lines(t)); n != 0 {
		t.Fatalf("%d lines while the stream is open, want 0", n)
	}
	cancel()
	<-srv.ended
	lines := srv.lines(t)
	if len(lines) != 1 {
		t.Fatalf("%d lines for one cancelled stream", len(lines))
	}
	want(t, lines[0], map[string]string{
		"req_url": listMethod, "status": "HTTP_499", "success": "False", "event": "OTELAUDIT_TEST_V1_TEST_LIST_ERROR",
	})
	recs := srv.forwarded(t)
	if len(recs) != 1 || attrsOf(recs[0])["rpc.response.status_code"].AsString() != "CANCELLED" {
		t.Errorf("forwarded: %v", recs)
	}
}

// TestSetters: an auth interceptor after the audit one names the user (or
// refuses the call, which is recorded too), and the handler names the
// event and adds kwargs, for unary calls and streams.
func TestSetters(t *testing.T) {
	srv := start(t, setup{})
	tests := []struct {
		name   string
		stream bool
		value  string
		md     []string
		code   codes.Code
		fields map[string]string
	}{
		{"user", false, "kwarg", []string{"authorization", "Bearer alice"}, codes.OK,
			map[string]string{"user": "alice", "user_id": "id-alice", "kwarg_note": "x", "event": "OTELAUDIT_TEST_V1_TEST_CALL_SUCCESS"}},
		{"user on a stream", true, "kwarg", []string{"authorization", "Bearer bob"}, codes.OK,
			map[string]string{"user": "bob", "user_id": "id-bob", "kwarg_note": "x", "event": "OTELAUDIT_TEST_V1_TEST_LIST_SUCCESS"}},
		{"refused by auth", false, "kwarg", []string{"authorization", "Bearer intruder"}, codes.Unauthenticated,
			map[string]string{"user": "<none>", "kwarg_note": "<none>", "status": "HTTP_401_UNAUTHORIZED", "event": "OTELAUDIT_TEST_V1_TEST_CALL_ERROR"}},
		{"stream refused by auth", true, "kwarg", []string{"authorization", "Bearer intruder"}, codes.Unauthenticated,
			map[string]string{"user": "<none>", "status": "HTTP_401_UNAUTHORIZED", "event": "OTELAUDIT_TEST_V1_TEST_LIST_ERROR"}},
		{"event", false, "event:read_thing_success", nil, codes.OK,
			map[string]string{"user": "<none>", "event": "READ_THING_SUCCESS"}},
		{"event on a stream", true, "event:list_things_success", nil, codes.OK,
			map[string]string{"event": "LIST_THINGS_SUCCESS"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got codes.Code
			if tt.stream {
				_, got = srv.stream(t, tt.value, tt.md...)
			} else {
				got = srv.unary(t, tt.value, tt.md...)
			}
			if got != tt.code {
				t.Fatalf("answered %v, want %v", got, tt.code)
			}
			want(t, srv.last(t), tt.fields)
		})
	}
}

// TestClientIP: user_ip by Psono's rule from the peer and the incoming
// metadata, with NUM_PROXIES and TRUSTED_IP_HEADER from the settings.
func TestClientIP(t *testing.T) {
	tests := []struct {
		name   string
		adjust func(*config.Settings)
		md     []string
		want   string
	}{
		{"peer", nil, nil, "127.0.0.1"},
		{"x-forwarded-for ignored without NUM_PROXIES", nil, []string{"x-forwarded-for", "203.0.113.7"}, "127.0.0.1"},
		{"x-forwarded-for with NUM_PROXIES=1", func(s *config.Settings) { s.NumProxies = 1 },
			[]string{"x-forwarded-for", "198.51.100.1, 203.0.113.7"}, "203.0.113.7"},
		{"x-forwarded-for with NUM_PROXIES=2", func(s *config.Settings) { s.NumProxies = 2 },
			[]string{"x-forwarded-for", "198.51.100.1, 203.0.113.7"}, "198.51.100.1"},
		{"x-forwarded-for not an IP", func(s *config.Settings) { s.NumProxies = 1 },
			[]string{"x-forwarded-for", "evil"}, "127.0.0.1"},
		{"trusted header", func(s *config.Settings) { s.TrustedIPHeader = "HTTP_X_REAL_IP" },
			[]string{"x-real-ip", "192.0.2.44"}, "192.0.2.44"},
		{"trusted header sent twice: the last", func(s *config.Settings) { s.TrustedIPHeader = "HTTP_X_REAL_IP" },
			[]string{"x-real-ip", "192.0.2.1", "x-real-ip", "192.0.2.44"}, "192.0.2.44"},
		{"trusted header not an IP", func(s *config.Settings) { s.TrustedIPHeader = "HTTP_X_REAL_IP" },
			[]string{"x-real-ip", "1.2.3.4 or so"}, "127.0.0.1"},
		{"trusted header not configured", nil, []string{"x-real-ip", "192.0.2.44"}, "127.0.0.1"},
		{"overwrite wins", func(s *config.Settings) {
			s.TrustedIPHeader, s.TrustedIPHeaderOverwrite = "HTTP_X_REAL_IP", "HTTP_X_CLIENT_IP"
		}, []string{"x-real-ip", "192.0.2.44", "x-client-ip", "2001:db8::1"}, "2001:db8::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := start(t, setup{adjust: tt.adjust})
			srv.unary(t, "", tt.md...)
			srv.stream(t, "", tt.md...)
			lines := srv.lines(t)
			if len(lines) != 2 {
				t.Fatalf("%d lines, want 2", len(lines))
			}
			for _, l := range lines {
				want(t, l, map[string]string{"user_ip": tt.want})
			}
		})
	}
}

// TestTrace: beside otelgrpc's stats handler, a call's record carries the
// trace and span ids of the call's span, the one its handler sees.
func TestTrace(t *testing.T) {
	srv := start(t, setup{})
	srv.unary(t, "span")
	srv.stream(t, "span")
	recs := srv.forwarded(t)
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2", len(recs))
	}
	for _, r := range recs {
		span := attrsOf(r)[psono.KwargAttr("span")].AsString()
		if !r.TraceID().IsValid() || r.SpanID().String() != span {
			t.Errorf("record of %v: trace %v span %v, the handler's span %s",
				attrsOf(r)["rpc.method"], r.TraceID(), r.SpanID(), span)
		}
	}
}

// TestFilter: the whitelist and blacklist apply to calls as to requests.
func TestFilter(t *testing.T) {
	srv := start(t, setup{adjust: func(s *config.Settings) { s.Blacklist = []string{"GRPC_HEALTH_*"} }})
	hc := healthpb.NewHealthClient(srv.conn)
	if _, err := hc.Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	srv.unary(t, "")
	lines := srv.lines(t)
	if len(lines) != 1 {
		t.Fatalf("%d lines, want 1 (health checks blacklisted)", len(lines))
	}
	want(t, lines[0], map[string]string{"req_url": callMethod})
}

func TestHTTPStatusAndNames(t *testing.T) {
	if got := otelauditgrpc.HTTPStatus(codes.Code(99)); got != 500 {
		t.Errorf("HTTPStatus(99) = %d, want 500", got)
	}
	if got := otelauditgrpc.CanonicalCode(codes.Code(99)); got != "CODE(99)" {
		t.Errorf("CanonicalCode(99) = %s", got)
	}
	for _, tt := range []struct{ method, service, event string }{
		{"/grpc.health.v1.Health/Check", "grpc.health.v1.Health", "GRPC_HEALTH_V1_HEALTH_CHECK_SUCCESS"},
		{"/a-b.c_d/Do.It", "a-b.c_d", "A_B_C_D_DO_IT_SUCCESS"},
		{"/Svc/Ü", "Svc", "SVC_SUCCESS"},
		{"/", "", "REQUEST_SUCCESS"},
		{"noslash", "noslash", "NOSLASH_SUCCESS"},
	} {
		if got := otelauditgrpc.Service(tt.method); got != tt.service {
			t.Errorf("Service(%q) = %q, want %q", tt.method, got, tt.service)
		}
		if got := otelauditgrpc.Event(tt.method, codes.OK); got != tt.event {
			t.Errorf("Event(%q) = %q, want %q", tt.method, got, tt.event)
		}
	}
}

// TestPanic: a handler that panics (no recovery interceptor inside the
// audit one) is recorded with Internal, and the panic goes on.
func TestPanic(t *testing.T) {
	srv := start(t, setup{})
	unary := otelauditgrpc.UnaryServerInterceptor(srv.auditor)
	stream := otelauditgrpc.StreamServerInterceptor(srv.auditor)
	tests := []struct {
		name, method string
		call         func()
	}{
		{"unary", callMethod, func() {
			_, _ = unary(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: callMethod},
				func(ctx context.Context, req any) (any, error) { panic("boom") })
		}},
		{"stream", listMethod, func() {
			_ = stream(nil, fakeStream{}, &grpc.StreamServerInfo{FullMethod: listMethod},
				func(any, grpc.ServerStream) error { panic("boom") })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			func() {
				defer func() {
					if p := recover(); p != "boom" {
						t.Errorf("recovered %v, want the handler's panic", p)
					}
				}()
				tt.call()
			}()
			want(t, srv.last(t), map[string]string{"req_url": tt.method, "status": "HTTP_500_INTERNAL_SERVER_ERROR",
				"success": "False", "user_ip": "None"})
		})
	}
}

// fakeStream is a server stream with a background context and no peer.
type fakeStream struct{ grpc.ServerStream }

func (fakeStream) Context() context.Context { return context.Background() }
