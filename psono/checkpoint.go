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
