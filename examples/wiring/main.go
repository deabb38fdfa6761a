// Command wiring is the production wiring of README.md ("Wiring it into a
// service"), the one to copy: the HTTP server is shut down before the
// auditor, each with a bounded context of its own, and SIGHUP reopens
// audit.log after rotation. Its main is README's, word for word (a test
// holds them equal), and it builds with the code as it is.
package main

import (
	"context"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/otelaudit/otelaudit"
	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/instrument"
)

func main() {
	settings, err := config.LoadPsono() // or config.Load("/etc/myservice/settings.yaml")
	if err != nil {
		log.Fatal(err) // names the file, line and key of a bad setting
	}
	auditor, err := otelaudit.New(settings)
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /datastore/{datastore_id}/", func(w http.ResponseWriter, r *http.Request) {
		user := authenticatedUser(r) // your authentication's user: name and id
		instrument.SetLogger(r.Context(), "restapi.views.datastore")
		instrument.SetUser(r.Context(), user.Name, user.ID)
		instrument.SetEvent(r.Context(), "LIST_DATASTORE_SUCCESS")
		// kwarg_datastore_id is taken from the route's wildcard by itself;
		// instrument.AddKwarg(r.Context(), "token_id", id) adds others,
		// instrument.AddKwargValue(r.Context(), "count", 3) typed ones.
	})
	srv := &http.Server{Addr: ":8080", Handler: auditor.Handler(mux), ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		for range hup {
			if err := auditor.Reopen(); err != nil { // after logrotate moved audit.log away
				log.Print(err)
			}
		}
	}()
	go func() {
		if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
			log.Print(err)
			stop()
		}
	}()
	<-ctx.Done()

	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil { // first: no request is served after this
		log.Print(err)
	}
	actx, acancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer acancel()
	if err := auditor.Shutdown(actx); err != nil { // then: every record is written
		log.Print(err)
	}
}

// authenticatedUser stands for the service's own authentication: the user
// the request's session or token belongs to, never a value the client
// simply sends. Here every request is anonymous.
func authenticatedUser(*http.Request) struct{ Name, ID string } {
	return struct{ Name, ID string }{}
}
