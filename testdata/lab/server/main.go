// Command server is the fake Internet of the network lab: it creates the
// lab's certificate authorities and serves HTTPS for every lab host name.
//
//	server ca <dir>
//	    writes ca.pem and ca-key.pem (the lab CA, which clients trust) and
//	    inspect-ca.pem and inspect-ca-key.pem (the CA of a TLS-inspecting
//	    middlebox, which they do not) into dir.
//	server serve -ca <dir> [-listen :443] [-inspect-listen :8443]
//	    serves HTTPS on -listen with certificates of the lab CA, minted on
//	    the fly for the ClientHello's server name (or, without one, for the
//	    address the client connected to), and on -inspect-listen with
//	    certificates of the inspecting CA, capped at TLS 1.2 so that the
//	    certificate and its issuer cross the wire in clear.
//
// The HTTP answers are small JSON documents that stand for the vendor's
// OAuth token endpoint and API.
package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Subjects of the two authorities, as a capture shows them in a TLS 1.2
// Certificate message.
const (
	labCAName     = "egress-audit Lab Root CA"
	inspectCAName = "Lab Inspecting Proxy CA"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("server: ")
	if len(os.Args) < 2 {
		log.Fatal("usage: server ca <dir> | server serve -ca <dir> [-listen :443] [-inspect-listen :8443]")
	}
	switch os.Args[1] {
	case "ca":
		if len(os.Args) != 3 {
			log.Fatal("usage: server ca <dir>")
		}
		if err := writeCAs(os.Args[2]); err != nil {
			log.Fatal(err)
		}
	case "serve":
		fs := flag.NewFlagSet("serve", flag.ExitOnError)
		caDir := fs.String("ca", "", "directory written by server ca")
		listen := fs.String("listen", ":443", "address of the HTTPS server")
		inspect := fs.String("inspect-listen", ":8443", "address of the inspecting middlebox (TLS 1.2)")
		fs.Parse(os.Args[2:])
		if err := serve(*caDir, *listen, *inspect); err != nil {
			log.Fatal(err)
		}
	default:
		log.Fatalf("unknown command %q", os.Args[1])
	}
}

// writeCAs creates both authorities in dir.
func writeCAs(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, ca := range []struct{ file, name string }{
		{"ca", labCAName},
		{"inspect-ca", inspectCAName},
	} {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		tmpl := &x509.Certificate{
			SerialNumber:          serial(),
			Subject:               pkix.Name{CommonName: ca.name, Organization: []string{"egress-audit lab"}},
			NotBefore:             time.Now().Add(-time.Hour),
			NotAfter:              time.Now().Add(30 * 24 * time.Hour),
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
			BasicConstraintsValid: true,
			IsCA:                  true,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			return err
		}
		kder, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return err
		}
		if err := writePEM(filepath.Join(dir, ca.file+".pem"), "CERTIFICATE", der); err != nil {
			return err
		}
		if err := writePEM(filepath.Join(dir, ca.file+"-key.pem"), "PRIVATE KEY", kder); err != nil {
			return err
		}
	}
	return nil
}

func writePEM(path, typ string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		panic(err)
	}
	return n
}

// authority mints leaf certificates, one per name, and keeps them.
type authority struct {
	cert *x509.Certificate
	key  crypto.Signer

	mu     sync.Mutex
	leaves map[string]*tls.Certificate
}

func loadAuthority(dir, file string) (*authority, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, file+".pem"))
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, file+"-key.pem"))
	if err != nil {
		return nil, err
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, fmt.Errorf("%s: no PEM block", file)
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, err
	}
	key, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: key cannot sign", file)
	}
	return &authority{cert: cert, key: signer, leaves: make(map[string]*tls.Certificate)}, nil
}

// getCertificate returns the leaf for the ClientHello's server name, or for
// the local address when the client sent none (a bare IP).
func (a *authority) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	name := hello.ServerName
	if name == "" {
		ap, err := netip.ParseAddrPort(hello.Conn.LocalAddr().String())
		if err != nil {
			return nil, err
		}
		name = ap.Addr().Unmap().String()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if c := a.leaves[name]; c != nil {
		return c, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(7 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if ip := net.ParseIP(name); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else {
		tmpl.DNSNames = []string{name}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		return nil, err
	}
	c := &tls.Certificate{Certificate: [][]byte{der, a.cert.Raw}, PrivateKey: key}
	a.leaves[name] = c
	return c, nil
}

func serve(caDir, listen, inspectListen string) error {
	lab, err := loadAuthority(caDir, "ca")
	if err != nil {
		return err
	}
	inspect, err := loadAuthority(caDir, "inspect-ca")
	if err != nil {
		return err
	}
	errs := make(chan error, 2)
	start := func(addr string, conf *tls.Config) {
		srv := &http.Server{
			Addr:              addr,
			Handler:           http.HandlerFunc(handle),
			TLSConfig:         conf,
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          log.New(os.Stderr, "server "+addr+": ", 0),
		}
		errs <- srv.ListenAndServeTLS("", "")
	}
	go start(listen, &tls.Config{GetCertificate: lab.getCertificate})
	go start(inspectListen, &tls.Config{GetCertificate: inspect.getCertificate, MaxVersion: tls.VersionTLS12})
	err = <-errs
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// handle answers like the vendor would, in a few bytes.
func handle(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	var body any
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/oauth/token":
		body = map[string]any{"access_token": "lab-token", "token_type": "Bearer", "expires_in": 3600}
	default:
		body = map[string]any{"host": r.Host, "method": r.Method, "path": r.URL.Path}
	}
	json.NewEncoder(w).Encode(body)
}
