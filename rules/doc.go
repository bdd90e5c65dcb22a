// Package rules holds the call catalog and the classifier that judges
// evidence against it.
//
// catalog.go loads and validates catalogs (quantive.yaml is embedded as the
// default). classify.go aggregates observations per destination;
// verdict.go turns the aggregates into a [Report]: a status for every call
// and every destination, with reasons, evidence and next steps. report.go
// is the report model that the renderers in package report print.
//
// The package never logs and never reads configuration: callers build
// [Options] and catalogs as values.
package rules
