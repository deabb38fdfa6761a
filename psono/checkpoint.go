package psono

// IsCheckpoint reports whether a record with this event name, emitted in
// this instrumentation scope, is a checkpoint record of the sealer: one the
// event filter passes whatever the whitelist and blacklist say, the file
// sink never writes (its lines are what it proves) and the forwarder never
// drops for room. A request record whose handler chose the event code
// AUDIT_LOG_CHECKPOINT is not one: its scope is the middleware's.
func IsCheckpoint(eventName, scopeName string) bool {
	return eventName == CheckpointEvent && scopeName == CheckpointScope
}

// The forwarding spool's record that names the records it dropped for its
// disk budget (see package spool): written to audit.log when the drop
// happens, and sent ahead of every other record when delivery resumes.
const (
	DroppedEvent = "AUDIT_RECORDS_DROPPED"
	DroppedScope = "github.com/otelaudit/otelaudit/spool"
)

// IsDropRecord reports whether a record with this event name, emitted in
// this scope, is the spool's AUDIT_RECORDS_DROPPED record, which the event
// filter passes whatever the whitelist and blacklist say: the host's trail
// must say that the off-host copy has a hole.
func IsDropRecord(eventName, scopeName string) bool {
	return eventName == DroppedEvent && scopeName == DroppedScope
}
