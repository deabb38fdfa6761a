package exporter

import "github.com/otelaudit/otelaudit/durability"

// Durability says when a record counts as written (see package durability,
// where the modes are defined for the settings and the file alike).
type Durability = durability.Mode

// The durabilities of a File (see package durability).
const (
	// Write: every record is handed to the operating system before OnEmit
	// returns. The default.
	Write = durability.Write
	// Sync: also fsynced before OnEmit returns (group commit).
	Sync = durability.Sync
	// Buffered: written when 64 KiB are pending or every 100ms.
	Buffered = durability.Buffered
)

// ParseDurability returns the Durability named "write", "fsync" or
// "buffered".
func ParseDurability(s string) (Durability, error) { return durability.Parse(s) }
