module github.com/otelaudit/otelaudit/instrument/otelauditchi

go 1.26.0

require github.com/otelaudit/otelaudit v0.0.0

require github.com/go-chi/chi/v5 v5.5.0 // indirect

replace github.com/otelaudit/otelaudit => ../..
