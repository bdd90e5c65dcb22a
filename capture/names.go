package capture

import (
	"net/netip"
	"sort"
	"time"
)

// MaxNames bounds the [NameTable]: past it new bindings are counted in
// Dropped instead of stored, so a capture full of random DNS names cannot
// exhaust memory. A binding takes about 220 bytes, so the bound holds the
// table near 60 MiB.
const MaxNames = 1 << 18

// nameSlack widens each binding's window on both sides: resolvers and
// clients cache beyond the TTL, and clocks of separate logs disagree.
const nameSlack = 5 * time.Minute

// binding is one DNS answer that tied a name to an address.
type binding struct {
	name        string
	first, last time.Time // when the answer was seen
	ttl         time.Duration
	// learned, when set, says how the binding was learned without a DNS
	// answer in the inputs (see [NameTable.AddLearned]).
	learned string
}

// NameTable maps server addresses to the names DNS answers gave them, with
// the time each answer was seen, so that a flow that carries no name (a SYN
// that was never answered, a firewall log line) can still be attributed.
// It is not safe for concurrent use.
type NameTable struct {
	byAddr  map[netip.Addr][]binding
	n       int
	Dropped int64 // bindings not stored because the table was full
}

// NewNameTable returns an empty table.
func NewNameTable() *NameTable {
	return &NameTable{byAddr: make(map[netip.Addr][]binding)}
}

// Add records that a DNS answer seen at t gave addr to name, valid for ttl.
func (t *NameTable) Add(name string, addr netip.Addr, at time.Time, ttl time.Duration) {
	addr = addr.Unmap()
	bs := t.byAddr[addr]
	for i := range bs {
		b := &bs[i]
		if b.name != name {
			continue
		}
		// An answer in the inputs confirms what was learned otherwise.
		b.learned = ""
		if at.Before(b.first) {
			b.first = at
		}
		if at.After(b.last) {
			b.last = at
		}
		if ttl > b.ttl {
			b.ttl = ttl
		}
		return
	}
	if t.n >= MaxNames {
		t.Dropped++
		return
	}
	t.n++
	t.byAddr[addr] = append(bs, binding{name: name, first: at, last: at, ttl: ttl})
}

// AddLearned records that name had addr, learned otherwise than from a DNS
// answer in the inputs and at no particular time, so it covers every time.
// how says how (e.g. "resolved by watch at start"): a [NameTable.Lookup]
// that only this binding answers gives it as Resolution.Uncertain, until a
// DNS answer for the same name and address is added.
func (t *NameTable) AddLearned(name string, addr netip.Addr, how string) {
	addr = addr.Unmap()
	bs := t.byAddr[addr]
	for _, b := range bs {
		if b.name == name {
			return
		}
	}
	if t.n >= MaxNames {
		t.Dropped++
		return
	}
	t.n++
	t.byAddr[addr] = append(bs, binding{name: name, learned: how})
}

// Len returns the number of bindings stored.
func (t *NameTable) Len() int { return t.n }

// Resolution is the name a [NameTable] gives an address at a time.
type Resolution struct {
	Name string
	// Uncertain is empty when exactly one answer covers the time; otherwise
	// it says why the name may be wrong, or how a binding learned without
	// a DNS answer was learned.
	Uncertain string
	// Others lists the other names the address had, sorted.
	Others []string
}

// Lookup returns the name DNS gave addr around time at. ok is false when no
// answer ever named addr. A zero at matches every binding.
func (t *NameTable) Lookup(addr netip.Addr, at time.Time) (r Resolution, ok bool) {
	bs := t.byAddr[addr.Unmap()]
	if len(bs) == 0 {
		return r, false
	}
	var inWindow []string
	var learned string
	for _, b := range bs {
		if at.IsZero() || b.first.IsZero() || covers(b, at) {
			inWindow = append(inWindow, b.name)
			learned = b.learned
		}
	}
	sort.Strings(inWindow)
	switch {
	case len(inWindow) == 1:
		r.Name = inWindow[0]
		r.Uncertain = learned
	case len(inWindow) > 1:
		r.Name = inWindow[0]
		r.Others = inWindow[1:]
		r.Uncertain = "address shared by several names"
	default:
		names := make([]string, len(bs))
		for i, b := range bs {
			names[i] = b.name
		}
		sort.Strings(names)
		r.Name = names[0]
		r.Others = names[1:]
		r.Uncertain = "DNS answer outside the flow's time window"
	}
	return r, true
}

func covers(b binding, at time.Time) bool {
	from := b.first.Add(-nameSlack)
	to := b.last.Add(b.ttl + nameSlack)
	return !at.Before(from) && !at.After(to)
}

// Merge adds the bindings of o to t.
func (t *NameTable) Merge(o *NameTable) {
	for addr, bs := range o.byAddr {
		for _, b := range bs {
			if b.learned != "" {
				t.AddLearned(b.name, addr, b.learned)
				continue
			}
			t.Add(b.name, addr, b.first, b.ttl)
			if b.last != b.first {
				t.Add(b.name, addr, b.last, b.ttl)
			}
		}
	}
	t.Dropped += o.Dropped
}
