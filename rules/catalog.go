package rules

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed quantive.yaml
var quantiveYAML []byte

// DefaultCatalogName is the file name errors use for the embedded catalog.
const DefaultCatalogName = "quantive.yaml"

// Catalog is the list of calls a SaaS integration makes, per data center.
// Load it with [LoadCatalog]; a loaded catalog is valid and read-only, and
// safe for concurrent use.
type Catalog struct {
	Name          string       `yaml:"name"`
	Version       string       `yaml:"version"`
	Title         string       `yaml:"title"`
	VendorDomains []string     `yaml:"vendor_domains"`
	TLSIssuers    []string     `yaml:"tls_issuers"`
	Datacenters   []Datacenter `yaml:"datacenters"`
	Calls         []Call       `yaml:"calls"`
}

// Datacenter is one place the vendor hosts accounts. Vars fill the {name}
// placeholders of the calls' host templates.
type Datacenter struct {
	ID    string            `yaml:"id"`
	Title string            `yaml:"title"`
	Vars  map[string]string `yaml:"vars"`
}

// Call is one request the integration makes.
type Call struct {
	ID        string   `yaml:"id"`
	Title     string   `yaml:"title"`
	Side      string   `yaml:"side"` // "server" or "browser"
	Host      string   `yaml:"host"` // template, e.g. "auth{dc}.gtmhub.com"
	Port      int      `yaml:"port"`
	Scheme    string   `yaml:"scheme"`
	Method    string   `yaml:"method"`
	Path      string   `yaml:"path"` // pattern; '*' matches any run of characters
	Required  bool     `yaml:"required"`
	DependsOn []string `yaml:"depends_on"`
}

// Sides a call can be made from.
const (
	SideServer  = "server"
	SideBrowser = "browser"
)

// DefaultCatalog returns the embedded Quantive catalog.
func DefaultCatalog() *Catalog {
	c, err := ParseCatalog(DefaultCatalogName, quantiveYAML)
	if err != nil {
		panic("rules: embedded catalog is invalid: " + err.Error())
	}
	return c
}

// LoadCatalog reads and validates the catalog in the named file.
func LoadCatalog(path string) (*Catalog, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	return ParseCatalog(path, b)
}

var (
	idRE       = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	varRE      = regexp.MustCompile(`\{([a-z_]+)\}`)
	hostRE     = regexp.MustCompile(`^[a-z0-9*]([a-z0-9.*-]*[a-z0-9])?$`)
	lineNumber = regexp.MustCompile(`^line (\d+): `)
	notFound   = regexp.MustCompile(`field (\S+) not found in type rules\.(\w+)`)
)

// ParseCatalog decodes a catalog strictly: an unknown field, a missing one
// or a value out of range is an error that names the file, the line and
// the key path, as in "cat.yaml:14: calls[2].host: empty host template".
func ParseCatalog(name string, data []byte) (*Catalog, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(name, err)
	}
	if len(root.Content) == 0 {
		return nil, fmt.Errorf("%s: empty catalog", name)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c Catalog
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(name, err)
	}
	v := validator{name: name, root: root.Content[0]}
	v.catalog(&c)
	if len(v.errs) > 0 {
		return nil, errors.Join(v.errs...)
	}
	return &c, nil
}

// yamlError turns the yaml package's "yaml: line 3: ..." into "name:3: ...".
func yamlError(name string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		errs := make([]error, 0, len(te.Errors))
		for _, e := range te.Errors {
			e = notFound.ReplaceAllString(e, `unknown field "$1" in $2`)
			errs = append(errs, fmt.Errorf("%s:%s", name, lineNumber.ReplaceAllString(e, "$1: ")))
		}
		return errors.Join(errs...)
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := lineNumber.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("%s:%s: %s", name, m[1], msg[len(m[0]):])
	}
	return fmt.Errorf("%s: %s", name, msg)
}

// validator collects every problem of a catalog, with the line of the node
// that holds it.
type validator struct {
	name string
	root *yaml.Node
	errs []error
}

// node returns the YAML node at a key path such as calls[2].host, or the
// closest ancestor that exists, for its line number.
func (v *validator) line(path ...any) int {
	n := v.root
	for _, p := range path {
		var next *yaml.Node
		switch p := p.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == p {
						next = n.Content[i+1]
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && p < len(n.Content) {
				next = n.Content[p]
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return n.Line
}

func (v *validator) fail(msg string, path ...any) {
	var key strings.Builder
	for _, p := range path {
		switch p := p.(type) {
		case string:
			if key.Len() > 0 {
				key.WriteByte('.')
			}
			key.WriteString(p)
		case int:
			fmt.Fprintf(&key, "[%d]", p)
		}
	}
	v.errs = append(v.errs, fmt.Errorf("%s:%d: %s: %s", v.name, v.line(path...), key.String(), msg))
}

func (v *validator) catalog(c *Catalog) {
	if c.Name == "" {
		v.fail("missing", "name")
	}
	if c.Version == "" {
		v.fail("missing", "version")
	}
	for i, d := range c.VendorDomains {
		c.VendorDomains[i] = strings.ToLower(strings.TrimPrefix(d, "*."))
		if !hostRE.MatchString(c.VendorDomains[i]) {
			v.fail(fmt.Sprintf("%q is not a domain name", d), "vendor_domains", i)
		}
	}
	if len(c.Datacenters) == 0 {
		v.fail("at least one data center is needed", "datacenters")
	}
	dcs := make(map[string]bool)
	for i, d := range c.Datacenters {
		switch {
		case !idRE.MatchString(d.ID):
			v.fail(fmt.Sprintf("id %q: want lower-case letters, digits, '.', '_' or '-'", d.ID), "datacenters", i, "id")
		case d.ID == "auto":
			v.fail(`id "auto" is reserved`, "datacenters", i, "id")
		case dcs[d.ID]:
			v.fail(fmt.Sprintf("duplicate id %q", d.ID), "datacenters", i, "id")
		}
		dcs[d.ID] = true
	}
	if len(c.Calls) == 0 {
		v.fail("at least one call is needed", "calls")
	}
	ids := make(map[string]int)
	for i := range c.Calls {
		v.call(c, i)
		if _, dup := ids[c.Calls[i].ID]; dup {
			v.fail(fmt.Sprintf("duplicate id %q", c.Calls[i].ID), "calls", i, "id")
		}
		ids[c.Calls[i].ID] = i
	}
	for i, call := range c.Calls {
		for j, dep := range call.DependsOn {
			k, ok := ids[dep]
			switch {
			case !ok:
				v.fail(fmt.Sprintf("unknown call %q", dep), "calls", i, "depends_on", j)
			case k == i:
				v.fail("a call cannot depend on itself", "calls", i, "depends_on", j)
			}
		}
	}
	if len(v.errs) == 0 && hasCycle(c, ids) {
		v.fail("dependencies form a cycle", "calls")
	}
}

func (v *validator) call(c *Catalog, i int) {
	call := &c.Calls[i]
	if !idRE.MatchString(call.ID) {
		v.fail(fmt.Sprintf("id %q: want lower-case letters, digits, '.', '_' or '-'", call.ID), "calls", i, "id")
	}
	if call.Title == "" {
		call.Title = call.ID
	}
	switch call.Side {
	case SideServer, SideBrowser:
	case "":
		call.Side = SideServer
	default:
		v.fail(fmt.Sprintf("%q: want server or browser", call.Side), "calls", i, "side")
	}
	call.Host = strings.ToLower(strings.TrimSpace(call.Host))
	if call.Host == "" {
		v.fail("empty host template", "calls", i, "host")
	}
	for _, m := range varRE.FindAllStringSubmatch(call.Host, -1) {
		for _, d := range c.Datacenters {
			if _, ok := d.Vars[m[1]]; !ok {
				v.fail(fmt.Sprintf("placeholder {%s} has no value in data center %q", m[1], d.ID), "calls", i, "host")
			}
		}
	}
	for _, d := range c.Datacenters {
		if h := expand(call.Host, d); call.Host != "" && !hostRE.MatchString(h) {
			v.fail(fmt.Sprintf("%q in data center %q is not a host name", h, d.ID), "calls", i, "host")
			break
		}
	}
	switch call.Scheme = strings.ToLower(call.Scheme); call.Scheme {
	case "":
		call.Scheme = "https"
	case "http", "https":
	default:
		v.fail(fmt.Sprintf("%q: want http or https", call.Scheme), "calls", i, "scheme")
	}
	if call.Port == 0 {
		call.Port = 443
		if call.Scheme == "http" {
			call.Port = 80
		}
	}
	if call.Port < 1 || call.Port > 65535 {
		v.fail(fmt.Sprintf("%d: want 1 to 65535", call.Port), "calls", i, "port")
	}
	call.Method = strings.ToUpper(call.Method)
	if call.Path != "" && !strings.HasPrefix(call.Path, "/") {
		v.fail(fmt.Sprintf("%q: a path starts with /", call.Path), "calls", i, "path")
	}
}

func hasCycle(c *Catalog, ids map[string]int) bool {
	const (
		unseen = iota
		active
		done
	)
	state := make([]int, len(c.Calls))
	var visit func(i int) bool
	visit = func(i int) bool {
		switch state[i] {
		case active:
			return true
		case done:
			return false
		}
		state[i] = active
		for _, d := range c.Calls[i].DependsOn {
			if visit(ids[d]) {
				return true
			}
		}
		state[i] = done
		return false
	}
	for i := range c.Calls {
		if visit(i) {
			return true
		}
	}
	return false
}

func expand(tmpl string, d Datacenter) string {
	return varRE.ReplaceAllStringFunc(tmpl, func(m string) string {
		return d.Vars[m[1:len(m)-1]]
	})
}

// Datacenter returns the data center with the given id.
func (c *Catalog) Datacenter(id string) (Datacenter, bool) {
	for _, d := range c.Datacenters {
		if d.ID == id {
			return d, true
		}
	}
	return Datacenter{}, false
}

// DatacenterIDs returns the ids of the catalog's data centers in order.
func (c *Catalog) DatacenterIDs() []string {
	ids := make([]string, len(c.Datacenters))
	for i, d := range c.Datacenters {
		ids[i] = d.ID
	}
	return ids
}

// Host returns the host name of call in data center d.
func (c *Catalog) Host(call *Call, d Datacenter) string {
	return expand(call.Host, d)
}

// Call returns the call with the given id, or nil.
func (c *Catalog) Call(id string) *Call {
	for i := range c.Calls {
		if c.Calls[i].ID == id {
			return &c.Calls[i]
		}
	}
	return nil
}

// IsVendorHost reports whether host is one of the vendor's domains or under one.
func (c *Catalog) IsVendorHost(host string) bool {
	for _, d := range c.VendorDomains {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// MatchPath reports whether path matches a call's path pattern, in which '*'
// stands for any run of characters. The query string is ignored. An empty
// pattern matches every path.
func MatchPath(pattern, path string) bool {
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	if pattern == "" {
		return true
	}
	parts := strings.Split(pattern, "*")
	last := len(parts) - 1
	if last == 0 {
		return path == pattern
	}
	if !strings.HasPrefix(path, parts[0]) {
		return false
	}
	path = path[len(parts[0]):]
	for _, p := range parts[1:last] {
		i := strings.Index(path, p)
		if i < 0 {
			return false
		}
		path = path[i+len(p):]
	}
	return strings.HasSuffix(path, parts[last])
}
