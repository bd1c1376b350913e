package security

import (
	"runtime"
	"testing"
)

func TestWellFormed(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want bool
	}{
		{"interest", "\x05\x05\x07\x03\x08\x01a", true},
		{"unknown element", "\x05\x08\x07\x03\x08\x01a\xfc\x01\x00", true},
		{"empty hoplimit", "\x05\x07\x07\x03\x08\x01a\x22\x00", false},
		{"truncated hoplimit", "\x05\x07\x30\x03000\x22\x30", false},
		{"memory bomb", "\x05\x07\x07\xfe10000", false},
		{"nested overflow", "\x05\x1b\x07\xff\x00\x00\x000000000000000000000000", false},
		{"truncated", "\x05\x01", false},
		{"two packets", "\x05\x05\x07\x03\x08\x01a\x06\x02\x07\x00", true},
	} {
		if got := WellFormed([]byte(tc.in)); got != tc.want {
			t.Errorf("%s: WellFormed = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestReadDataBomb: the 9-byte memory bomb is refused without allocating.
func TestReadDataBomb(t *testing.T) {
	var m1, m2 runtime.MemStats
	runtime.ReadMemStats(&m1)
	if _, _, err := ReadData([]byte("\x06\x07\x07\xfe10000")); err == nil {
		t.Fatal("want an error")
	}
	runtime.ReadMemStats(&m2)
	if got := m2.TotalAlloc - m1.TotalAlloc; got > 1<<20 {
		t.Fatalf("allocated %d bytes", got)
	}
}
