package otelauditgrpc

import (
	"github.com/otelaudit/otelaudit"
	"github.com/otelaudit/otelaudit/instrument"
)

// instrumentOptioner is what an Auditor offers when it hands its settings to
// adapters: the instrument options its HTTP middleware is built with (its
// LoggerProvider, host name, NUM_PROXIES, TRUSTED_IP_HEADER and
// TRUSTED_IP_HEADER_OVERWRITE, default logger, value limit, and strict
// mode with its pipeline's health check).
type instrumentOptioner interface {
	InstrumentOptions() []instrument.Option
}

// auditorOptions returns the options that bind instrument.NewCalls to a's
// pipeline and settings. With a core whose Auditor does not offer them,
// only its LoggerProvider is known: the records go through its pipeline,
// and the client-IP settings and strict mode must be given with
// WithInstrumentOptions.
func auditorOptions(a *otelaudit.Auditor) []instrument.Option {
	if a == nil {
		panic("otelauditgrpc: nil *otelaudit.Auditor")
	}
	if o, ok := any(a).(instrumentOptioner); ok {
		return o.InstrumentOptions()
	}
	return []instrument.Option{instrument.WithLoggerProvider(a.LoggerProvider())}
}
