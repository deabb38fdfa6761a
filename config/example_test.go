package config_test

import (
	"fmt"

	"github.com/otelaudit/otelaudit/config"
)

func ExampleParse() {
	_, err := config.Parse("settings.yaml", []byte("LOGGING_AUDIT: True\nLOGGING_AUDIT_TIME: utc\n"))
	fmt.Println(err)
	// Output: settings.yaml:2: LOGGING_AUDIT_TIME: unknown value "utc"; want time_utc or time_server
}
