package capture

import (
	"fmt"
	"sort"
)

// MaxProblems is how many problems a [Stats] keeps word for word; the rest
// are only counted, so that a damaged input cannot fill memory with messages.
const MaxProblems = 20

// Problem is one record of an input that could not be used, with where it
// was and what was wrong.
type Problem struct {
	Locator Locator
	Err     string
}

// Stats counts what reading one input did with each of its records: every
// record is parsed, skipped (with a reason) or failed.
type Stats struct {
	Input  string
	Format string

	Records int64            // records parsed into evidence
	Skipped map[string]int64 // records passed over on purpose, by reason
	Failed  int64            // records that could not be parsed

	// Problems holds the first [MaxProblems] failures; Truncated reports an
	// input that ended inside a record.
	Problems  []Problem
	Truncated string

	// Evicted counts flows judged before their end because the flow table
	// was full: their later packets start a new flow.
	Evicted int64
	// Unreassembled counts TCP flows whose first bytes were not all
	// reassembled because the reassembly buffers of the flows open at the
	// time used up their budget; their names come from DNS, if at all.
	Unreassembled int64
	// OutOfOrder counts packets stamped earlier than the packet before
	// them: captures merged without sorting, or a clock stepped back.
	// Flows are still judged in the order the packets come.
	OutOfOrder int64
}

// Skip counts one record passed over for reason.
func (s *Stats) Skip(reason string) {
	if s.Skipped == nil {
		s.Skipped = make(map[string]int64)
	}
	s.Skipped[reason]++
}

// SkippedTotal returns the number of skipped records of every reason.
func (s *Stats) SkippedTotal() int64 {
	var n int64
	for _, v := range s.Skipped {
		n += v
	}
	return n
}

// SkipReasons returns the skip reasons sorted by name.
func (s *Stats) SkipReasons() []string {
	keys := make([]string, 0, len(s.Skipped))
	for k := range s.Skipped {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Fail counts one record that could not be parsed and keeps its message
// while fewer than [MaxProblems] are kept.
func (s *Stats) Fail(at Locator, err error) {
	s.Failed++
	if len(s.Problems) < MaxProblems {
		s.Problems = append(s.Problems, Problem{Locator: at, Err: err.Error()})
	}
}

// Merge adds the counts of o to s.
func (s *Stats) Merge(o *Stats) {
	s.Records += o.Records
	s.Failed += o.Failed
	s.Evicted += o.Evicted
	s.Unreassembled += o.Unreassembled
	s.OutOfOrder += o.OutOfOrder
	for k, v := range o.Skipped {
		if s.Skipped == nil {
			s.Skipped = make(map[string]int64)
		}
		s.Skipped[k] += v
	}
	for _, p := range o.Problems {
		if len(s.Problems) < MaxProblems {
			s.Problems = append(s.Problems, p)
		}
	}
	if s.Truncated == "" {
		s.Truncated = o.Truncated
	}
}

// ProblemError is the error of one record, naming the input and where in it.
type ProblemError struct {
	Input   string
	Locator Locator
	Err     error
}

func (e *ProblemError) Error() string {
	if e.Locator.Unit == "line" {
		return fmt.Sprintf("%s:%d: %v", e.Input, e.Locator.N, e.Err)
	}
	return fmt.Sprintf("%s: %s: %v", e.Input, e.Locator, e.Err)
}

func (e *ProblemError) Unwrap() error { return e.Err }
