// Command client plays the Jira server's side of the plugin's OAuth flow in
// the network lab, with Go's default TLS settings: its ClientHello carries a
// post-quantum key share (X25519MLKEM768) and so spans two TCP segments.
//
//	client -ca ca.pem [-dc .us] [-timeout 3s]
//
// It exchanges a code for a token at auth{dc}.gtmhub.com, then, only if
// that worked, lists sessions and goals and creates a task at
// app{dc}.gtmhub.com, as the plugin does. HTTPS_PROXY is honoured. The exit
// status is 1 when a call failed.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("client: ")
	caFile := flag.String("ca", "", "PEM file of the CA to trust")
	dc := flag.String("dc", "", "data center infix of the host names, e.g. .us")
	timeout := flag.Duration("timeout", 3*time.Second, "connect and TLS handshake timeout")
	flag.Parse()

	pool := x509.NewCertPool()
	pemData, err := os.ReadFile(*caFile)
	if err != nil {
		log.Fatal(err)
	}
	if !pool.AppendCertsFromPEM(pemData) {
		log.Fatalf("%s: no certificate", *caFile)
	}
	c := &http.Client{
		Timeout: 4 * *timeout,
		Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: *timeout}).DialContext,
			TLSClientConfig:     &tls.Config{RootCAs: pool},
			TLSHandshakeTimeout: *timeout,
		},
	}
	auth := "https://auth" + *dc + ".gtmhub.com"
	app := "https://app" + *dc + ".gtmhub.com"
	form := url.Values{"grant_type": {"authorization_code"}, "code": {"lab-code"}}.Encode()
	steps := []struct{ method, url, body string }{
		{http.MethodPost, auth + "/oauth/token", form},
		{http.MethodGet, app + "/api/v1/sessions", ""},
		{http.MethodGet, app + "/api/v1/goals?sessionId=lab", ""},
		{http.MethodPost, app + "/api/v1/tasks", `{"name":"lab task"}`},
	}
	for _, s := range steps {
		if err := call(c, s.method, s.url, s.body); err != nil {
			log.Printf("%s %s: %v", s.method, s.url, err)
			os.Exit(1)
		}
	}
}

func call(c *http.Client, method, u, body string) error {
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		return err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	fmt.Printf("%s %s: %s %s", method, u, resp.Status, b)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}
