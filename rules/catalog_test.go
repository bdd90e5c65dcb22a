package rules

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultCatalog(t *testing.T) {
	c := DefaultCatalog()
	var ids []string
	for _, call := range c.Calls {
		ids = append(ids, call.ID)
	}
	if got, want := strings.Join(ids, ","), "oauth-authorize,oauth-token,list-sessions,list-okrs,search,create-task"; got != want {
		t.Errorf("call ids = %s, want %s", got, want)
	}
	hosts := map[string][2]string{
		"eu": {"auth.gtmhub.com", "app.gtmhub.com"},
		"us": {"auth.us.gtmhub.com", "app.us.gtmhub.com"},
		"as": {"auth.as.gtmhub.com", "app.as.gtmhub.com"},
		"sa": {"auth.sa.gtmhub.com", "app.sa.gtmhub.com"},
	}
	for id, want := range hosts {
		dc, ok := c.Datacenter(id)
		if !ok {
			t.Fatalf("data center %s missing", id)
		}
		if got := c.Host(c.Call("oauth-token"), dc); got != want[0] {
			t.Errorf("oauth-token host in %s = %s, want %s", id, got, want[0])
		}
		if got := c.Host(c.Call("create-task"), dc); got != want[1] {
			t.Errorf("create-task host in %s = %s, want %s", id, got, want[1])
		}
	}
	if c.Call("search").Required {
		t.Error("search is required, want optional")
	}
	if c.Call("oauth-authorize").Side != SideBrowser {
		t.Error("oauth-authorize is not a browser call")
	}
	for _, h := range []string{"gtmhub.com", "acme.quantive.com", "acme.us.quantive.com"} {
		if !c.IsVendorHost(h) {
			t.Errorf("IsVendorHost(%s) = false, want true", h)
		}
	}
	for _, h := range []string{"notgtmhub.com", "quantive.com.example.net"} {
		if c.IsVendorHost(h) {
			t.Errorf("IsVendorHost(%s) = true, want false", h)
		}
	}
}

// TestLoadCatalogGolden loads every catalog under testdata/catalogs and
// compares what it gives (a summary, or the errors) with a golden file.
func TestLoadCatalogGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/catalogs/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no catalogs: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			c, err := LoadCatalog(f)
			var got strings.Builder
			switch {
			case err != nil:
				if strings.HasPrefix(name, "good") {
					t.Errorf("LoadCatalog(%s) = %v, want no error", f, err)
				}
				fmt.Fprintf(&got, "error:\n%s\n", err)
			default:
				if strings.HasPrefix(name, "bad") {
					t.Errorf("LoadCatalog(%s) succeeded, want an error", f)
				}
				fmt.Fprintf(&got, "%s %s\n", c.Name, c.Version)
				for _, d := range c.Datacenters {
					for i := range c.Calls {
						call := &c.Calls[i]
						fmt.Fprintf(&got, "%s %s %s %s %s://%s:%d%s required=%v after=%v\n",
							d.ID, call.ID, call.Side, call.Method, call.Scheme, c.Host(call, d), call.Port, call.Path,
							call.Required, call.DependsOn)
					}
				}
			}
			golden(t, "catalog_"+name+".txt", []byte(got.String()))
		})
	}
}

func TestCatalogErrorsNameLine(t *testing.T) {
	_, err := ParseCatalog("c.yaml", []byte("name: x\nversion: \"1\"\ndatacenters:\n  - id: eu\ncalls:\n  - id: a\n    host: \"\"\n"))
	if err == nil || !strings.Contains(err.Error(), "c.yaml:7: calls[0].host: empty host template") {
		t.Errorf("error = %v, want c.yaml:7: calls[0].host: empty host template", err)
	}
}

func TestMatchPath(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"/oauth/token*", "/oauth/token", true},
		{"/oauth/token*", "/oauth/token?grant_type=authorization_code", true},
		{"/oauth/token*", "/oauth/tokens", true},
		{"/oauth/token", "/oauth/token/x", false},
		{"/api/v*/sessions*", "/api/v2/sessions", true},
		{"/api/v*/sessions*", "/api/v1/sessions?x=1", true},
		{"/api/v*/sessions*", "/api/v1/goals", false},
		{"/api/v1/goals*", "/api/v1/goals/123/tasks", true},
		{"", "/anything", true},
		{"/a*b*c", "/aXbYc", true},
		{"/a*b*c", "/aXbYcd", false},
	}
	for _, tc := range tests {
		if got := MatchPath(tc.pattern, tc.path); got != tc.want {
			t.Errorf("MatchPath(%q, %q) = %v, want %v", tc.pattern, tc.path, got, tc.want)
		}
	}
}

func FuzzLoadCatalog(f *testing.F) {
	f.Add(quantiveYAML)
	files, _ := filepath.Glob("testdata/catalogs/*.yaml")
	for _, name := range files {
		if b, err := readFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCatalog("fuzz.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		// A valid catalog expands to host names in every data center, and
		// its dependencies name existing calls.
		for _, d := range c.Datacenters {
			for i := range c.Calls {
				if h := c.Host(&c.Calls[i], d); !hostRE.MatchString(h) {
					t.Errorf("host %q of a valid catalog is not a host name", h)
				}
				for _, dep := range c.Calls[i].DependsOn {
					if c.Call(dep) == nil {
						t.Errorf("dependency %q of a valid catalog does not exist", dep)
					}
				}
			}
		}
	})
}
