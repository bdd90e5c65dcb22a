package capture

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// corpusTruth is the part of a corpus truth file (made by tshark) that the
// corpus test compares with.
type corpusTruth struct {
	File           string   `json:"file"`
	Packets        int64    `json:"packets"`
	SNI            []string `json:"sni"`
	QUICSNI        []string `json:"quic_sni"`
	DNSQueries     []string `json:"dns_queries"`
	HTTPHosts      []string `json:"http_hosts"`
	ConnectTargets []string `json:"connect_targets"`
	DNSAnswers     []struct {
		Name  string `json:"name"`
		Rcode string `json:"rcode"`
	} `json:"dns_answers"`
}

// corpusExceptions are the names tshark found that the reader does not,
// each with the reason that is accepted. Keys are "file kind name".
var corpusExceptions = map[string]string{
	"ndpi_quic_t51.pcap quic www.google.com": "Google QUIC T051 protects its Initials with " +
		"a salt of its own, not a version the reader decrypts",
	"zeek_quic_interop_quic-go_quic-go_handshake.pcap quic server4:443": "the client put a port in " +
		"server_name (RFC 6066 allows a host name only); the reader reports the host, server4",
}

// corpusAnswerExceptions are the DNS answers tshark found that the reader
// does not judge as tshark's rcode says, each with the reason that is
// accepted. Keys are "file name rcode".
var corpusAnswerExceptions = map[string]string{
	"ndpi_badpackets.pcap  NOERROR": "packet 4 keeps 4 bytes of its DNS message, less " +
		"than the header: no ID to pair it with a question, no question name",
}

// corpusNotes are observations of corpus captures whose detail must say
// what the capture hides: file, packet of the observation, part of its
// detail.
var corpusNotes = []struct {
	file   string
	packet int64
	detail string
}{
	{"tcpdump_dns_udp_2.pcap", 2, "answer cut by the capture's snaplen at packet 2: 1 of 2 answer records read"},
	{"zeek_tunnels_geneve-vxlan-dns-truncated.pcap", 2, "answer cut by the capture's snaplen at packet 2"},
	{"ndpi_badpackets.pcap", 3, "answer cut by the capture's snaplen at packet 3: 0 of 7 answer records read"},
	{"tcpdump_quic_handshake_truncated.pcap", 1, "packet 1, the client's QUIC Initial, was cut by the capture's snaplen"},
	{"ndpi_google_meet.pcapng", 4, "ServerHello (TLS 1.3) seen at packet 6, handshake not finished"},
}

// TestCorpusNotes checks the details of [corpusNotes].
func TestCorpusNotes(t *testing.T) {
	root := os.Getenv("EGRESS_AUDIT_CORPUS")
	if root == "" {
		t.Skip("EGRESS_AUDIT_CORPUS not set")
	}
	for _, tc := range corpusNotes {
		f, err := os.Open(filepath.Join(root, "pcap", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		var details []string
		found := false
		err = Read(f, tc.file, nil, &Stats{}, func(o *Observation) {
			if o.Locator == Packet(tc.packet) {
				details = append(details, o.Detail)
				found = found || strings.Contains(o.Detail, tc.detail)
			}
		})
		f.Close()
		if err != nil {
			t.Errorf("%s: %v", tc.file, err)
		}
		if !found {
			t.Errorf("%s: packet %d: details %q, want one with %q", tc.file, tc.packet, details, tc.detail)
		}
	}
}

// TestCorpus reads every capture of the public corpus and checks that each
// name tshark found (TLS SNI, DNS question, HTTP Host, CONNECT target, QUIC
// SNI) is found too, and that each DNS answer tshark decoded is one too: a
// name answered NXDOMAIN or SERVFAIL is reported with that reason, and a
// name with any answer is not only a dns-timeout. It runs when
// EGRESS_AUDIT_CORPUS names the corpus.
func TestCorpus(t *testing.T) {
	root := os.Getenv("EGRESS_AUDIT_CORPUS")
	if root == "" {
		t.Skip("EGRESS_AUDIT_CORPUS not set")
	}
	truths, err := filepath.Glob(filepath.Join(root, "pcap", "*.truth.json"))
	if err != nil || len(truths) == 0 {
		t.Fatalf("no truth files under %s/pcap", root)
	}
	total, missed, accepted := 0, 0, 0
	for _, tf := range truths {
		raw, err := os.ReadFile(tf)
		if err != nil {
			t.Fatal(err)
		}
		var truth corpusTruth
		if err := json.Unmarshal(raw, &truth); err != nil {
			t.Fatalf("%s: %v", tf, err)
		}
		got, lookups, st := readCorpusCapture(t, filepath.Join(root, "pcap", truth.File))
		if st.Records+st.SkippedTotal()+st.Failed < truth.Packets {
			t.Errorf("%s: %d packets counted, tshark read %d", truth.File, st.Records+st.SkippedTotal()+st.Failed, truth.Packets)
		}
		check := func(kind string, want []string, stripPort bool) {
			for _, w := range want {
				name := strings.ToLower(w)
				if stripPort {
					name, _ = splitHostPort(name)
				}
				if name == "<root>" {
					name = "."
				}
				total++
				if got[kind][name] || kind == "http" && got["connect"][name] {
					// A CONNECT request's Host header names its target.
					continue
				}
				key := truth.File + " " + kind + " " + w
				if why, ok := corpusExceptions[key]; ok {
					accepted++
					t.Logf("accepted miss: %s (%s)", key, why)
					continue
				}
				missed++
				t.Errorf("%s: %s %q not found (found %v)", truth.File, kind, w, keys(got[kind]))
			}
		}
		check("sni", truth.SNI, false)
		check("quic", truth.QUICSNI, false)
		check("dns", truth.DNSQueries, false)
		check("http", truth.HTTPHosts, true)
		check("connect", truth.ConnectTargets, true)

		for _, a := range truth.DNSAnswers {
			name := strings.ToLower(a.Name)
			if name == "<root>" {
				name = "."
			}
			total++
			reasons := lookups[name]
			ok := false
			switch a.Rcode {
			case "NXDOMAIN":
				ok = reasons[DNSNXDomain]
			case "SERVFAIL":
				ok = reasons[DNSServFail]
			default:
				for r := range reasons {
					ok = ok || r != DNSTimeout
				}
			}
			if ok {
				continue
			}
			key := truth.File + " " + a.Name + " " + a.Rcode
			if why, ok := corpusAnswerExceptions[key]; ok {
				accepted++
				t.Logf("accepted answer: %s (%s)", key, why)
				continue
			}
			missed++
			t.Errorf("%s: answer %s for %q judged %v", truth.File, a.Rcode, a.Name, reasonKeys(reasons))
		}
	}
	t.Logf("%d captures, %d names and answers: %d missed, %d accepted exceptions", len(truths), total, missed, accepted)
}

func reasonKeys(m map[Reason]bool) []string {
	var out []string
	for r := range m {
		if r == ReasonNone {
			out = append(out, "ok")
		} else {
			out = append(out, string(r))
		}
	}
	sort.Strings(out)
	return out
}

// readCorpusCapture reads one capture and returns the names found, by kind,
// and the reasons each looked-up name was judged with (ReasonNone: ok).
func readCorpusCapture(t *testing.T, path string) (map[string]map[string]bool, map[string]map[Reason]bool, *Stats) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := map[string]map[string]bool{"sni": {}, "quic": {}, "dns": {}, "http": {}, "connect": {}}
	lookups := map[string]map[Reason]bool{}
	st := &Stats{}
	err = Read(f, filepath.Base(path), nil, st, func(o *Observation) {
		if o.Kind == Lookup {
			if lookups[o.Host] == nil {
				lookups[o.Host] = map[Reason]bool{}
			}
			lookups[o.Host][o.Reason] = true
		}
		switch o.HostSource {
		case SourceSNI:
			got["sni"][o.Host] = true
		case SourceQUIC:
			got["quic"][o.Host] = true
		case SourceDNS:
			if o.Kind == Lookup {
				got["dns"][o.Host] = true
			}
		case SourceHTTP:
			got["http"][o.Host] = true
		case SourceConnect:
			got["connect"][o.Host] = true
		}
	})
	if err != nil {
		t.Errorf("%s: %v", filepath.Base(path), err)
	}
	return got, lookups, st
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
