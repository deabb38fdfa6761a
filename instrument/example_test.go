package instrument_test

import (
	"net/http"

	"github.com/otelaudit/otelaudit/instrument"
)

func ExampleNewHandler() {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /authentication/activate-token/", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		instrument.SetLogger(ctx, "restapi.views.activate_token")
		instrument.SetUser(ctx, "demo2@example.com", "ba504938-9a23-4162-867f-6840c301bc20")
		instrument.AddKwarg(ctx, "token_id", "a1398962-05a7-433d-a8f3-999df3e157b8")
		instrument.SetEvent(ctx, "LOGIN_ACTIVATE_TOKEN_SUCCESS")
	})
	// Records go to the global LoggerProvider unless WithLoggerProvider
	// says otherwise; otelaudit.New wires a ready one.
	h := instrument.NewHandler(mux, instrument.WithNumProxies(1))
	_ = http.ListenAndServe("127.0.0.1:10200", h)
}
