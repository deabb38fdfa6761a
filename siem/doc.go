// Package siem maps Psono audit records to the schemas security teams read
// them in: OCSF 1.8.0 events (AWS Security Lake, Splunk's OCSF tooling) and
// ECS 9.4.0 documents (Elastic). It reads a record as audit.log holds it, a
// psono.Line, plus what travels beside the line when a record is forwarded:
// its position in the sealed audit.log and its trace context.
//
// Every field of the line goes to its place in the schema, and the line
// itself travels unchanged (OCSF raw_data, ECS event.original), so nothing
// is lost. Kwargs, which no schema defines, go under OCSF's unmapped and the
// ECS custom namespace psono.kwarg.
//
// OCSF classes: events starting LOGIN_ and LOGOUT_ become Authentication
// (3002; activity 1 Logon, 2 Logoff); every other event becomes API Activity
// (6003), its activity read from the HTTP method (GET and HEAD 2 Read, POST
// 1 Create, PUT and PATCH 3 Update, DELETE 4 Delete, any other 99 Other).
//
// Exporter wraps an sdklog.Exporter so that forwarded records carry the
// Psono line as their body, the OCSF event as their body, or ECS attribute
// names (see Schema).
package siem
