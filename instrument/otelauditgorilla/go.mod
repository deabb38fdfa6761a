module github.com/otelaudit/otelaudit/instrument/otelauditgorilla

go 1.26.0

require github.com/otelaudit/otelaudit v0.0.0

require (
	github.com/go-chi/chi/v5 v5.5.0 // indirect
	github.com/gorilla/mux v1.8.1 // indirect
)

replace github.com/otelaudit/otelaudit => ../..
