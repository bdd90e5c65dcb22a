package report

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// chromiumFlags keep a headless Chromium from doing anything but render
// the page.
var chromiumFlags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
	"--no-first-run", "--disable-background-networking",
	"--disable-component-update", "--disable-sync",
	"--disable-default-apps", "--no-default-browser-check",
	"--window-size=1280,2400",
}

// chromium returns the path of a Chromium binary, or skips the test.
func chromium(t *testing.T) string {
	t.Helper()
	if os.Getenv("EGRESS_AUDIT_BROWSER") != "1" {
		t.Skip("set EGRESS_AUDIT_BROWSER=1 to render the HTML report in headless Chromium")
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("EGRESS_AUDIT_BROWSER=1 but no chromium binary on PATH (apt-get install -y chromium)")
	return ""
}

// runChromium runs the browser on a file with extra flags and returns its
// standard output.
func runChromium(t *testing.T, bin, page string, extra ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append([]string{}, chromiumFlags...)
	args = append(args, "--user-data-dir="+t.TempDir())
	args = append(args, extra...)
	args = append(args, "file://"+page)
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(extra, " "), err, stderr.Bytes())
	}
	return stdout.Bytes()
}

// TestHTMLInChromium opens HTML reports in headless Chromium, checks what
// the page shows, that input markup stayed text and that the page fetched
// nothing, and keeps a screenshot of each in $EGRESS_AUDIT_ARTIFACTS.
func TestHTMLInChromium(t *testing.T) {
	bin := chromium(t)
	artifacts := os.Getenv("EGRESS_AUDIT_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		scenario string
		want     []string // text the page must show
	}{
		{"token_no_response", []string{
			"Egress audit", "Calls, in order", "The chain breaks here",
			"oauth-token", "no-response", "jira.pcapng packet 3", "gtmhub.com",
			"9f2c4e1b7a0d3c5e8f6a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a",
		}},
		{"hostile", []string{
			"&lt;script&gt;alert(1)&lt;/script&gt;.example",
			`\x1b[31mred\x1b[0m.example`,
			"&lt;img src=x onerror=alert(2)&gt;.log line 5",
			"Bearer REDACTED",
		}},
		{"unexpected", []string{"telemetry.example.net", "example.net", "198.51.100.77:8443", addressesGroup}},
	}
	for _, tc := range tests {
		t.Run(tc.scenario, func(t *testing.T) {
			var page bytes.Buffer
			if err := HTML(&page, scenarioReport(tc.scenario)); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			file := filepath.Join(dir, tc.scenario+".html")
			if err := os.WriteFile(file, page.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}

			dom := string(runChromium(t, bin, file, "--dump-dom"))
			for _, w := range tc.want {
				if !strings.Contains(dom, w) {
					t.Errorf("rendered page lacks %q", w)
				}
			}
			for _, tag := range []string{"<script", "<img", "<iframe", "<link", "<object", "<b>denied"} {
				if strings.Contains(dom, tag) {
					t.Errorf("rendered page holds a %s element", tag)
				}
			}
			if strings.Contains(dom, hostileToken) {
				t.Errorf("rendered page shows the bearer token")
			}

			netLog := filepath.Join(dir, "net.json")
			shot := filepath.Join(artifacts, "report-"+tc.scenario+".png")
			runChromium(t, bin, file, "--screenshot="+shot, "--log-net-log="+netLog)
			if fi, err := os.Stat(shot); err != nil || fi.Size() < 10000 {
				t.Errorf("screenshot %s: %v (size %d)", shot, err, sizeOf(fi))
			}
			for _, u := range requestedURLs(t, netLog) {
				// The browser's own update and account checks may show up
				// despite the flags; the page's addresses must not.
				for _, h := range []string{"198.51.100.", "203.0.113.", "192.0.2.", "gtmhub", "example"} {
					if strings.Contains(u, h) {
						t.Errorf("the page made the browser fetch %s", u)
					}
				}
			}
			t.Logf("screenshot: %s", shot)
		})
	}
}

func sizeOf(fi os.FileInfo) int64 {
	if fi == nil {
		return 0
	}
	return fi.Size()
}

// requestedURLs returns every URL in a Chromium net log.
func requestedURLs(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("net log: %v", err)
	}
	var log struct {
		Events []struct {
			Params map[string]any `json:"params"`
		} `json:"events"`
	}
	if err := json.Unmarshal(b, &log); err != nil {
		t.Fatalf("net log %s: %v", path, err)
	}
	var urls []string
	for _, e := range log.Events {
		if u, ok := e.Params["url"].(string); ok && !strings.HasPrefix(u, "file:") {
			urls = append(urls, u)
		}
	}
	return urls
}
