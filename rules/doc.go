// Package rules holds the call catalog and the classifier that judges
// evidence against it.
//
// catalog.go loads and validates catalogs (quantive.yaml is embedded as the
// default). classify.go aggregates observations per destination;
// verdict.go turns the aggregates into a [Report]: a status for every call
// and every destination, with reasons, evidence and next steps. report.go
// is the report model that the renderers in package report print.
//
// The policy files evaluate a proxy's or firewall's rules against the
// catalog without traffic. policy.go is the model ([Policy],
// [PolicyRequest], [PolicyDecision]) and format detection;
// policy_squid.go reads squid configurations (acl, http_access, ssl_bump,
// include) the way squid tokenizes them;
// policy_lists.go reads plain domain allow-lists and PAN-OS external
// dynamic lists; policy_cloud.go reads AWS Network Firewall domain-list
// rule groups and Azure Firewall application rule collections;
// policy_check.go asks a policy about every call ([CheckPolicy]) and
// compares the answer with a report. The policy readers live here rather
// than in package parsers because a rule set is configuration, not
// evidence: it yields no observations.
//
// The package never logs and never reads configuration: callers build
// [Options] and catalogs as values.
package rules
