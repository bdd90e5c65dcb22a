package rules

// Merge adds everything o has seen to c, as if o's observations had been
// added to c after c's own. Both must judge against the same catalog with
// the same options. It lets inputs be read in parallel, one classifier
// each, and merged in input order so that the report does not depend on
// which input finished first. o must not be used afterwards.
func (c *Classifier) Merge(o *Classifier) {
	c.names.Merge(o.names)
	mergeInto(c, c.named, o.named)
	mergeInto(c, c.unnamed, o.unnamed)
	mergeInto(c, c.lookups, o.lookups)
	for dc, n := range o.dcSeen {
		c.dcSeen[dc] += n
	}
	for n := range o.echNames {
		if c.echNames == nil {
			c.echNames = make(map[string]bool)
		}
		if len(c.echNames) < maxECHNames {
			c.echNames[n] = true
		}
	}
	c.outsideClients += o.outsideClients
	c.overflow += o.overflow
}

func mergeInto(c *Classifier, dst, src map[destKey]*aggregate) {
	for k, a := range src {
		if d := dst[k]; d != nil {
			d.merge(a)
			continue
		}
		if len(c.named)+len(c.unnamed)+len(c.lookups) >= MaxDestinations {
			c.overflow += a.all.flows
			continue
		}
		dst[k] = a
	}
}
