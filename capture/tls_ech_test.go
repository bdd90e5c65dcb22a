package capture

import "testing"

// httpsECH is the RDATA of an HTTPS record in ServiceMode with alpn and ech.
var httpsECH = []byte{
	0x00, 0x01, // SvcPriority: 1
	0x00,       // TargetName: "." (the owner name)
	0x00, 0x01, // SvcParamKey: alpn
	0x00, 0x03, // SvcParamValue length: 3
	0x02, 'h', '3', // alpn-id: h3
	0x00, 0x05, // SvcParamKey: ech
	0x00, 0x04, // SvcParamValue length: 4
	0x00, 0x02, 0xfe, 0x0d, // ECHConfigList (cut short: not parsed)
}

func TestSVCBHasECH(t *testing.T) {
	tests := []struct {
		name    string
		rdata   []byte
		want    bool
		wantErr bool
	}{
		{name: "https_ech", rdata: httpsECH, want: true},
		{name: "https_alpn_only", rdata: httpsECH[:10]},
		{name: "alias_mode", rdata: []byte{
			0x00, 0x00, // SvcPriority: 0, AliasMode
			0x03, 'c', 'd', 'n', 0x03, 'c', 'o', 'm', 0x00, // TargetName: cdn.com
		}},
		{name: "target_name_then_ech", rdata: []byte{
			0x00, 0x02, // SvcPriority: 2
			0x04, 'e', 'd', 'g', 'e', 0x00, // TargetName: edge
			0x00, 0x05, // SvcParamKey: ech
			0x00, 0x01, // length: 1
			0xaa,
		}, want: true},
		{name: "keys_out_of_order", rdata: []byte{
			0x00, 0x01, 0x00,
			0x00, 0x05, 0x00, 0x01, 0xaa, // ech
			0x00, 0x01, 0x00, 0x01, 0xbb, // alpn after ech
		}, wantErr: true},
		{name: "compressed_target", rdata: []byte{0x00, 0x01, 0xc0, 0x0c}, wantErr: true},
		{name: "empty_ech", rdata: []byte{0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x00}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SVCBHasECH(tc.rdata)
			if got != tc.want || (err != nil) != tc.wantErr {
				t.Errorf("SVCBHasECH(%s) = %v, %v, want %v, error %v", tc.name, got, err, tc.want, tc.wantErr)
			}
		})
	}
	for i := range len(httpsECH) {
		if has, err := SVCBHasECH(httpsECH[:i]); has {
			t.Errorf("SVCBHasECH(https_ech[:%d]) = true, %v", i, err)
		}
	}
}

func FuzzSVCBHasECH(f *testing.F) {
	f.Add(httpsECH)
	f.Add([]byte{0x00, 0x00, 0x03, 'c', 'd', 'n', 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		has, err := SVCBHasECH(b)
		if has && err != nil {
			t.Fatalf("SVCBHasECH = true with error %v", err)
		}
	})
}
