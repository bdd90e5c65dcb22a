package report

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"time"

	"github.com/egress-audit/egress-audit/capture"
)

// observationJSON is the documented JSON line of one observation.
type observationJSON struct {
	Time       *time.Time `json:"time"`
	Input      string     `json:"input"`
	Locator    string     `json:"locator"`
	Kind       string     `json:"kind"`
	Client     string     `json:"client"`
	Server     string     `json:"server"`
	Transport  string     `json:"transport"`
	Host       string     `json:"host"`
	HostSource string     `json:"host_source"`
	Method     string     `json:"method,omitempty"`
	Path       string     `json:"path,omitempty"`
	Outcome    string     `json:"outcome"`
	Reason     string     `json:"reason,omitempty"`
	Detail     string     `json:"detail"`
	Answers    []string   `json:"answers,omitempty"`
	Issuer     string     `json:"issuer,omitempty"`
	// ECH: a ClientHello with Encrypted Client Hello (host is its outer
	// name), or on a lookup an HTTPS record publishing its configuration.
	ECH bool `json:"ech,omitempty"`
}

// ObservationEncoder writes observations as JSON lines.
type ObservationEncoder struct {
	enc *json.Encoder
}

// NewObservationEncoder returns an encoder writing to w.
func NewObservationEncoder(w io.Writer) *ObservationEncoder {
	return &ObservationEncoder{enc: json.NewEncoder(w)}
}

// Encode writes o as one line of JSON.
func (e *ObservationEncoder) Encode(o *capture.Observation) error {
	j := observationJSON{
		Input:      o.Input,
		Locator:    o.Locator.String(),
		Kind:       o.Kind.String(),
		Client:     endpoint(o.Client),
		Server:     endpoint(o.Server),
		Transport:  string(o.Transport),
		Host:       o.Host,
		HostSource: string(o.HostSource),
		Method:     o.Method,
		Path:       o.Path,
		Outcome:    string(o.Outcome),
		Reason:     string(o.Reason),
		Detail:     o.Detail,
		Issuer:     o.Issuer,
		ECH:        o.ECH,
	}
	if !o.Time.IsZero() {
		t := o.Time.UTC()
		j.Time = &t
	}
	for _, a := range o.Answers {
		j.Answers = append(j.Answers, a.String())
	}
	return e.enc.Encode(&j)
}

// ObservationLine writes o as one line of text for a person.
func ObservationLine(w io.Writer, o *capture.Observation) error {
	t := "-"
	if !o.Time.IsZero() {
		t = o.Time.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	host := o.Host
	if host == "" {
		host = "-"
	}
	_, err := fmt.Fprintf(w, "%s %s %s %s -> %s %s %s [%s] %s %s %s\n",
		t, Clean(o.Input), o.Locator, orDash(endpoint(o.Client)), orDash(endpoint(o.Server)),
		o.Kind, Clean(host), o.HostSource, o.Outcome, o.Reason, Clean(o.Detail))
	return err
}

// endpoint writes a as address:port, the address alone without a port,
// and ":port" when only the port is known (a proxy's CONNECT line names the
// port it was asked for, not the address it would have reached), so that
// the port is never lost.
func endpoint(a netip.AddrPort) string {
	switch {
	case !a.Addr().IsValid() && a.Port() != 0:
		return ":" + strconv.Itoa(int(a.Port()))
	case !a.Addr().IsValid():
		return ""
	case a.Port() == 0:
		return a.Addr().Unmap().String()
	}
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port()).String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
