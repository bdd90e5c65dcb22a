// Package report prints a [rules.Report] for the people and programs that
// read it, and the allow-list rules that fix what it found blocked. One
// file per output:
//
//   - table.go: text tables for a terminal, laid out by tablewriter,
//     coloured by status on a TTY and wrapped to its width; hint.go: the
//     last line saying which rule is missing.
//   - json.go: the documented JSON contract (egress-audit/report/v1).
//   - markdown.go: CommonMark with GFM tables, for change requests.
//   - html.go, html.tmpl, html.css: one self-contained page with the calls
//     as a timeline, destinations by registrable domain, the evidence and
//     the inputs' SHA-256.
//   - csv.go: one row per call and per destination.
//   - junit.go: one test case per catalog call, for CI systems.
//   - allowlist.go: rules for squid, PAN-OS, FortiGate, AWS Network
//     Firewall, Azure Firewall, pfSense, nftables and plain host lists.
//   - observations.go: the JSON lines and text lines of extract.
//   - diff.go: compares two reports ([Compare]) and prints the result as a
//     table, as JSON (egress-audit/diff/v1) or as markdown.
//   - checkrules.go: what a policy would do with every call ([rules.Check]),
//     as a table, JSON, markdown, HTML, CSV or JUnit.
//   - escape.go: [Clean] and [Redact], which every form applies to the
//     strings that came from the input before escaping them for its sink.
//
// Values from inputs are hostile until proven otherwise: a host name can
// hold markup, terminal escapes or a spreadsheet formula, and a log line a
// bearer token. Each writer escapes for its sink, and tests render a
// report built from such values in every form.
package report
