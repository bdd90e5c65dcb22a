package capture

import "testing"

func TestTLSVersionName(t *testing.T) {
	cases := []struct {
		v    uint16
		want string
	}{
		{0x0300, "SSL 3.0"},
		{0x0301, "TLS 1.0"},
		{0x0303, "TLS 1.2"},
		{0x0304, "TLS 1.3"},
		{0x7f1c, "TLS 1.3 draft 28"},
		{0x0a0a, "version 0x0a0a"}, // a GREASE value
		{0, "version 0x0000"},
	}
	for _, tc := range cases {
		if got := tlsVersionName(tc.v); got != tc.want {
			t.Errorf("tlsVersionName(0x%04x) = %q, want %q", tc.v, got, tc.want)
		}
	}
}
