package config_test

import (
	"fmt"

	"github.com/otelaudit/otelaudit/config"
	"github.com/otelaudit/otelaudit/exporter"
)

func ExampleParse() {
	_, err := config.Parse("settings.yaml", []byte("LOGGING_AUDIT: True\nLOGGING_AUDIT_TIME: utc\n"))
	fmt.Println(err)
	// Output: settings.yaml:2: LOGGING_AUDIT_TIME: unknown value "utc"; want time_utc or time_server
}

func ExampleSettings_Validate() {
	s := config.Default()
	s.Enabled = true
	s.Strict = true
	s.Durability = exporter.Buffered
	fmt.Println(s.Validate())
	// Output: settings: LOGGING_AUDIT_STRICT: strict mode needs every record confirmed before its response: set LOGGING_AUDIT_DURABILITY to write or fsync, not buffered
}
