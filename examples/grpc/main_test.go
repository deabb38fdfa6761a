package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/otelaudit/otelaudit/psono"
)

// TestDemo serves the demo on a loopback port, makes the calls of its
// documentation and reads audit.log after a graceful stop: one line per
// call, with the user the authentication interceptor named.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	settings := filepath.Join(dir, "settings.yaml")
	if err := os.WriteFile(settings, []byte("LOGGING_AUDIT: True\nLOGGING_AUDIT_FOLDER: "+dir+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-settings", settings, "-listen", "127.0.0.1:0"}, io.Discard, ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	as := func(token string) context.Context {
		return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token)
	}
	get := func(ctx context.Context, id string) codes.Code {
		err := conn.Invoke(ctx, "/otelaudit.demo.v1.Notes/Get", wrapperspb.String(id), new(wrapperspb.StringValue))
		return status.Code(err)
	}

	if _, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ctx  context.Context
		id   string
		want codes.Code
	}{
		{as("demo-token-alice"), "2", codes.OK},
		{as("demo-token-alice"), "9", codes.NotFound},
		{context.Background(), "2", codes.Unauthenticated},
	} {
		if got := get(c.ctx, c.id); got != c.want {
			t.Fatalf("Get %s: %v, want %v", c.id, got, c.want)
		}
	}
	cs, err := conn.NewStream(as("demo-token-bob"), &notesDesc.Streams[0], "/otelaudit.demo.v1.Notes/List")
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.SendMsg(wrapperspb.String("")); err != nil {
		t.Fatal(err)
	}
	_ = cs.CloseSend()
	n := 0
	for cs.RecvMsg(new(wrapperspb.StringValue)) == nil {
		n++
	}
	if n != 3 {
		t.Fatalf("List sent %d notes, want 3", n)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	data, err := os.ReadFile(filepath.Join(dir, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	want := []map[string]string{
		{"logger": "grpc.health.v1.Health", "event": "GRPC_HEALTH_V1_HEALTH_CHECK_SUCCESS", "status": "HTTP_200_OK"},
		{"logger": "otelaudit.demo.v1.Notes", "req_method": "POST", "req_url": "/otelaudit.demo.v1.Notes/Get",
			"event": "OTELAUDIT_DEMO_V1_NOTES_GET_SUCCESS", "user": "alice@example.com", "kwarg_note_id": "2", "user_ip": "127.0.0.1"},
		{"event": "OTELAUDIT_DEMO_V1_NOTES_GET_ERROR", "status": "HTTP_404_NOT_FOUND", "user": "alice@example.com", "kwarg_note_id": "9"},
		{"event": "OTELAUDIT_DEMO_V1_NOTES_GET_ERROR", "status": "HTTP_401_UNAUTHORIZED", "success": "False"},
		{"req_url": "/otelaudit.demo.v1.Notes/List", "event": "LIST_NOTES_SUCCESS", "user": "bob@example.com", "kwarg_count": "3"},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), data)
	}
	for i, l := range lines {
		pl, err := psono.Parse(l)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range want[i] {
			if got, _ := pl.Get(k); got != v {
				t.Errorf("line %d: %s=%q, want %q in %s", i+1, k, got, v, l)
			}
		}
	}
	if strings.Contains(lines[3], "user=") {
		t.Errorf("the refused call names a user: %s", lines[3])
	}
}
