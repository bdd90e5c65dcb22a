// Package report prints a [rules.Report] for the people and programs that
// read it: table.go for a terminal, json.go for the documented JSON
// contract, observations.go for the JSON lines of extract. diff.go compares
// two reports (Compare) and prints the result as a table, as JSON (schema
// egress-audit/diff/v1) or as markdown for a change request. checkrules.go
// prints what a policy would do with every call (a [rules.Check]).
package report
