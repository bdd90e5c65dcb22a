// Command mkcaptures plays the traffic of testdata/captures inside a
// network namespace whose loopback carries the lab addresses (see
// make.sh): a DNS server, a TLS 1.3 server, a TLS 1.2 server that presents
// an intercepting proxy's certificate, an HTTP server, an explicit proxy
// that answers CONNECT, and a closed port. Each client step runs after
// the previous one ended, so the packet order is the same on every run.
package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

const (
	resolver = "198.51.100.53:53"
	server   = "203.0.113.5"
	proxy    = "203.0.113.8:3128"
	client   = "192.0.2.10"
)

var zone = map[string]string{
	"app.gtmhub.com.":  server,
	"auth.gtmhub.com.": server,
}

func main() {
	log.SetFlags(0)
	public := newCA("Lab Public Root CA")
	inspect := newCA("Corporate Inspection CA")
	go serveDNS()
	go serveTLS(server+":443", public.issue("app.gtmhub.com", "auth.gtmhub.com"), tls.VersionTLS13)
	go serveTLS(server+":8444", inspect.issue("app.gtmhub.com"), tls.VersionTLS12)
	go serveHTTP(server + ":80")
	go serveProxy(proxy)
	time.Sleep(300 * time.Millisecond)

	roots := x509.NewCertPool()
	roots.AddCert(public.cert)
	step := func(name string, f func() error) {
		err := f()
		fmt.Fprintf(os.Stderr, "mkcaptures: %s: %v\n", name, err)
		time.Sleep(200 * time.Millisecond)
	}
	step("dns app.gtmhub.com", func() error { _, err := lookup("app.gtmhub.com."); return err })
	step("tls 1.3 ok", func() error { return tlsGet(server+":443", "app.gtmhub.com", roots) })
	step("tls 1.2 intercepted", func() error { return tlsGet(server+":8444", "app.gtmhub.com", roots) })
	step("dns nxdomain", func() error { _, err := lookup("missing.gtmhub.com."); return err })
	step("reset", func() error {
		c, err := dial(server + ":8443")
		if err == nil {
			c.Close()
		}
		return err
	})
	step("http", func() error {
		c, err := dial(server + ":80")
		if err != nil {
			return err
		}
		defer c.Close()
		fmt.Fprintf(c, "GET /rest/api/latest/serverInfo HTTP/1.1\r\nHost: app.gtmhub.com\r\nConnection: close\r\n\r\n")
		_, err = io.Copy(io.Discard, c)
		return err
	})
	step("connect denied", func() error { return connect("auth.gtmhub.com:443", roots) })
	step("connect ok", func() error { return connect("app.gtmhub.com:443", roots) })
}

// dial connects from the lab client address.
func dial(addr string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(client)}, Timeout: 2 * time.Second}
	return d.Dial("tcp", addr)
}

func tlsGet(addr, name string, roots *x509.CertPool) error {
	c, err := dial(addr)
	if err != nil {
		return err
	}
	tc := tls.Client(c, &tls.Config{ServerName: name, RootCAs: roots})
	defer tc.Close()
	if err := tc.Handshake(); err != nil {
		return err
	}
	fmt.Fprintf(tc, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", name)
	_, err = io.Copy(io.Discard, tc)
	return err
}

func connect(target string, roots *x509.CertPool) error {
	c, err := dial(proxy)
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("proxy: %s", resp.Status)
	}
	host, _, _ := net.SplitHostPort(target)
	tc := tls.Client(c, &tls.Config{ServerName: host, RootCAs: roots})
	if err := tc.Handshake(); err != nil {
		return err
	}
	fmt.Fprintf(tc, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", host)
	_, err = io.Copy(io.Discard, tc)
	return err
}

func lookup(name string) (dnsmessage.RCode, error) {
	c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(client)}, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(resolver)))
	if err != nil {
		return 0, err
	}
	defer c.Close()
	q := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: 0x4242, RecursionDesired: true},
		Questions: []dnsmessage.Question{{Name: dnsmessage.MustNewName(name), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}},
	}
	b, _ := q.Pack()
	c.Write(b)
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 1500)
	n, err := c.Read(buf)
	if err != nil {
		return 0, err
	}
	var m dnsmessage.Message
	if err := m.Unpack(buf[:n]); err != nil {
		return 0, err
	}
	return m.RCode, nil
}

func serveDNS() {
	pc, err := net.ListenPacket("udp", resolver)
	if err != nil {
		log.Fatal(err)
	}
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		var q dnsmessage.Message
		if q.Unpack(buf[:n]) != nil || len(q.Questions) == 0 {
			continue
		}
		r := dnsmessage.Message{Header: dnsmessage.Header{ID: q.ID, Response: true, RecursionDesired: true, RecursionAvailable: true}, Questions: q.Questions}
		qu := q.Questions[0]
		if addr, ok := zone[strings.ToLower(qu.Name.String())]; ok {
			r.Answers = []dnsmessage.Resource{{
				Header: dnsmessage.ResourceHeader{Name: qu.Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 300},
				Body:   &dnsmessage.AResource{A: netip.MustParseAddr(addr).As4()},
			}}
		} else {
			r.RCode = dnsmessage.RCodeNameError
		}
		b, _ := r.Pack()
		pc.WriteTo(b, from)
	}
}

func serveTLS(addr string, cert tls.Certificate, version uint16) {
	ln, err := tls.Listen("tcp", addr, &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: version})
	if err != nil {
		log.Fatal(err)
	}
	http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") }))
}

func serveHTTP(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "{}\n") }))
}

// serveProxy answers CONNECT: 407 for auth.gtmhub.com, a tunnel to the
// TLS server otherwise.
func serveProxy(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			br := bufio.NewReader(c)
			req, err := http.ReadRequest(br)
			if err != nil || req.Method != "CONNECT" {
				return
			}
			if strings.HasPrefix(req.Host, "auth.") {
				io.WriteString(c, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"lab\"\r\nContent-Length: 0\r\n\r\n")
				return
			}
			up, err := net.Dial("tcp", server+":443")
			if err != nil {
				io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\n\r\n")
				return
			}
			defer up.Close()
			io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
			go io.Copy(up, br)
			io.Copy(c, up)
		}()
	}
}

type ca struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newCA(name string) *ca {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		log.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &ca{cert: cert, key: key}
}

func (c *ca) issue(names ...string) tls.Certificate {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, &key.PublicKey, c.key)
	if err != nil {
		log.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
