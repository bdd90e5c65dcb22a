// Package report prints a [rules.Report] for the people and programs that
// read it: table.go for a terminal, json.go for the documented JSON
// contract, observations.go for the JSON lines of extract.
package report
