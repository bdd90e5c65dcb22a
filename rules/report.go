package rules

import "time"

// ReportSchema names the JSON form of a [Report]. Fields are only ever added
// to it, never renamed or given another meaning.
const ReportSchema = "egress-audit/report/v1"

// Call statuses.
const (
	StatusOK          = "ok"
	StatusBlocked     = "blocked"
	StatusMissing     = "missing"
	StatusNotExpected = "not-expected"
)

// Destination classes.
const (
	ClassCatalog         = "catalog"
	ClassOtherDatacenter = "other-datacenter"
	ClassKnown           = "known"
	ClassUnexpected      = "unexpected"
)

// Destination statuses.
const (
	DestAllowed = "allowed"
	DestBlocked = "blocked"
	DestMixed   = "mixed"
	DestUnknown = "unknown"
)

// MaxEvidence is how many pieces of evidence a call or destination keeps;
// the counts stay exact.
const MaxEvidence = 5

// Report is the result of an audit: the verdict on every catalog call and
// every destination seen, with the evidence and the inputs it came from.
// Its JSON form is the documented contract (schema [ReportSchema]).
type Report struct {
	Schema       string        `json:"schema"`
	Datacenter   string        `json:"datacenter"`
	Vantage      string        `json:"vantage"`
	Catalog      CatalogRef    `json:"catalog"`
	Inputs       []InputReport `json:"inputs"`
	Calls        []CallReport  `json:"calls"`
	Destinations []Destination `json:"destinations"`
	Summary      Summary       `json:"summary"`
	Notes        []string      `json:"notes,omitempty"`
	NextSteps    []string      `json:"next_steps,omitempty"`
}

// CatalogRef names the catalog a report was judged against.
type CatalogRef struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// InputReport counts what was read from one input.
type InputReport struct {
	Path    string           `json:"path"`
	Format  string           `json:"format"`
	SHA256  string           `json:"sha256"`
	Records int64            `json:"records"`
	Skipped int64            `json:"skipped"`
	Errors  int64            `json:"errors"`
	Reasons map[string]int64 `json:"skip_reasons,omitempty"`
	// Problems quotes the first few records that failed, with locators.
	Problems  []string `json:"problems,omitempty"`
	Truncated string   `json:"truncated,omitempty"`
	// Evicted counts flows judged before their end because the capture
	// reader's flow table was full.
	Evicted int64 `json:"evicted_flows,omitempty"`
	// Unreassembled counts TCP flows whose first bytes were not all
	// reassembled: the reassembly budget was spent.
	Unreassembled int64 `json:"unreassembled_flows,omitempty"`
	// OutOfOrder counts packets stamped earlier than the packet before.
	OutOfOrder int64 `json:"out_of_order_packets,omitempty"`
	// TimeZone names the zone in which times that carried none were read
	// (--timezone); empty when every time had its own zone.
	TimeZone string `json:"time_zone,omitempty"`
	// Error says why the input could not be read at all (it does not
	// exist, it is of no known format); its counts are then zero. The
	// other inputs are judged all the same.
	Error string `json:"error,omitempty"`
}

// CallReport is the verdict on one catalog call.
type CallReport struct {
	ID       string     `json:"id"`
	Title    string     `json:"title"`
	Host     string     `json:"host"`
	Port     int        `json:"port"`
	Side     string     `json:"side"`
	Required bool       `json:"required"`
	Status   string     `json:"status"`
	Reason   string     `json:"reason,omitempty"`
	Detail   string     `json:"detail,omitempty"`
	Level    string     `json:"level,omitempty"` // "host" or "url": how precisely the evidence matched
	Evidence []Evidence `json:"evidence"`
}

// Evidence points at one observation behind a verdict.
type Evidence struct {
	Input   string    `json:"input"`
	Locator string    `json:"locator"`
	Time    time.Time `json:"time,omitzero"`
	Client  string    `json:"client,omitempty"`
	Server  string    `json:"server,omitempty"`
	Detail  string    `json:"detail"`
}

// Destination is everything seen going to one host (or one address when no
// name is known).
type Destination struct {
	Host       string     `json:"host"`
	IPs        []string   `json:"ips"`
	Port       int        `json:"port"`
	Class      string     `json:"class"`
	Status     string     `json:"status"`
	Reason     string     `json:"reason,omitempty"`
	HostSource string     `json:"host_source,omitempty"`
	Uncertain  string     `json:"uncertain,omitempty"` // why the name may be wrong
	Flows      int64      `json:"flows"`
	Blocked    int64      `json:"blocked_flows"`
	FirstSeen  time.Time  `json:"first_seen,omitzero"`
	LastSeen   time.Time  `json:"last_seen,omitzero"`
	Evidence   []Evidence `json:"evidence"`
}

// Summary counts calls by status, and destinations by class and by
// status.
type Summary struct {
	Calls        map[string]int `json:"calls"`        // by status
	Destinations map[string]int `json:"destinations"` // by class
	// DestinationStatuses counts destinations by status (allowed, blocked,
	// mixed, unknown). It came after Destinations, which keeps its meaning.
	DestinationStatuses map[string]int `json:"destination_statuses"`
	Unexpected          int            `json:"unexpected"`
}
