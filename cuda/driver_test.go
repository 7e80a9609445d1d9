package cuda

import "testing"

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
		err  bool
	}{
		{"12.4", "12.4.0", 0, false},
		{"550.54.15", "550.54.14", 1, false},
		{"99", "550", -1, false},
		{"12.10", "12.9", 1, false},
		{"12.x", "12", 0, true},
		{"", "1", 0, true},
		{"1..2", "1", 0, true},
	}
	for _, tt := range tests {
		got, err := CompareVersions(tt.a, tt.b)
		if (err != nil) != tt.err || (!tt.err && got != tt.want) {
			t.Errorf("CompareVersions(%q, %q) = %d, %v", tt.a, tt.b, got, err)
		}
	}
}

func TestDriverFor(t *testing.T) {
	n, err := DriverFor("12.8.1")
	if err != nil || n.Version != "12.8" || n.Full != "570.26" || n.MinorCompat != "525.60.13" || !n.Known {
		t.Fatalf("DriverFor = %+v, %v", n, err)
	}
	n, _ = DriverFor("13.7")
	if n.Known || n.MinorCompat != "580.65.06" {
		t.Fatalf("unknown 13.x = %+v", n)
	}
	if NewestFullCUDA("550.54.15") != "12.4" || NewestFullCUDA("400") != "" {
		t.Fatal("NewestFullCUDA")
	}
	if CUDAFromDriverAPI(12040) != "12.4" || CUDAFromDriverAPI(13000) != "13.0" {
		t.Fatal("CUDAFromDriverAPI")
	}
}

// Every release nix2gpu offers has a matching driver row and coherent
// capability bounds.
func TestReleasesConsistent(t *testing.T) {
	for _, r := range Releases {
		n, err := DriverFor(r.Version)
		if err != nil || !n.Known || n.Full == "" || n.MinorCompat == "" {
			t.Errorf("%s: no driver figures in the table: %+v, %v", r.Version, n, err)
		}
		if min, _ := MinCapabilityFor(r.Version); min != r.MinCapability {
			t.Errorf("%s: min capability %s vs %s", r.Version, r.MinCapability, min)
		}
		if r.Attr != "cudaPackages_"+string(r.Version[0:2])+"_"+r.Version[3:] {
			t.Errorf("%s: attr %s", r.Version, r.Attr)
		}
	}
	if _, ok := Lookup(DefaultVersion); !ok {
		t.Errorf("default version %s is not offered", DefaultVersion)
	}
}

func TestForwardCompat(t *testing.T) {
	if !IsForwardCompatBranch("535.161.08") || IsForwardCompatBranch("550.54.15") || IsForwardCompatBranch("x") {
		t.Fatal("branches")
	}
	if !IsDataCenterBrand("Tesla") || !IsDataCenterBrand("NVIDIA") || IsDataCenterBrand("GeForceRTX") {
		t.Fatal("brands")
	}
}
