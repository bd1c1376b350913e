package ndn

import (
	"encoding/hex"
	"runtime"
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
)

// The Interest that panics ndnd v1.5.3's parser (zero-length HopLimit).
const crashInterest = "050707030801612200"

func TestParsesSafelyDropsNdndCrasher(t *testing.T) {
	bad, _ := hex.DecodeString(crashInterest)
	if parsesSafely(bad) {
		t.Fatal("the HopLimit crasher must be dropped")
	}
	// The same inside an NDNLPv2 fragment.
	lp := append([]byte{0x64, byte(len(bad) + 2), 0x50, byte(len(bad))}, bad...)
	if parsesSafely(lp) {
		t.Fatal("the crasher inside an LpPacket must be dropped")
	}
	good, err := spec.Spec{}.MakeInterest(enc.Name{enc.NewGenericComponent("a")}, &ndn.InterestConfig{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !parsesSafely(good.Wire.Join()) {
		t.Fatal("a valid Interest must pass")
	}
	if parsesSafely([]byte{0x05, 0x01}) {
		t.Fatal("a truncated packet is dropped here (the engine would drop it too)")
	}
	// Well-formed TLVs the parser does not know pass: it skips or reports them.
	if !parsesSafely([]byte{0x05, 0x08, 0x07, 0x03, 0x08, 0x01, 'a', 0xfc, 0x01, 0x00}) {
		t.Fatal("a well-formed packet with an unknown element must pass")
	}
}

func FuzzParsesSafely(f *testing.F) {
	bad, _ := hex.DecodeString(crashInterest)
	f.Add(bad)
	good, _ := spec.Spec{}.MakeInterest(enc.Name{enc.NewGenericComponent("a")}, &ndn.InterestConfig{}, enc.Wire{[]byte("x")}, nil)
	f.Add(good.Wire.Join())
	f.Fuzz(func(t *testing.T, b []byte) {
		if !parsesSafely(b) {
			return
		}
		// What we pass on must not panic the engine's parser.
		pkt, _, err := spec.ReadPacket(enc.NewBufferView(b))
		if err == nil && pkt.LpPacket != nil && len(pkt.LpPacket.Fragment) > 0 {
			_, _, _ = spec.ReadPacket(enc.NewWireView(pkt.LpPacket.Fragment))
		}
	})
}

func BenchmarkParsesSafely(b *testing.B) {
	i, _ := spec.Spec{}.MakeInterest(enc.Name{enc.NewGenericComponent("example"), enc.NewGenericComponent("calc"), enc.NewGenericComponent("Add")},
		&ndn.InterestConfig{}, enc.Wire{make([]byte, 64)}, nil)
	w := i.Wire.Join()
	b.ReportAllocs()
	for b.Loop() {
		parsesSafely(w)
	}
}

// TestParsesSafelyMemoryBomb: a 9-byte Interest whose Name claims 800 MB
// made ndnd's parser allocate about 12 GiB; the structure check drops it
// before the parser runs.
func TestParsesSafelyMemoryBomb(t *testing.T) {
	var m1, m2 runtime.MemStats
	runtime.ReadMemStats(&m1)
	if parsesSafely([]byte("\x05\a\a\xfe10000")) {
		t.Fatal("the memory bomb must be dropped")
	}
	runtime.ReadMemStats(&m2)
	if got := m2.TotalAlloc - m1.TotalAlloc; got > 1<<20 {
		t.Fatalf("checking it allocated %d bytes", got)
	}
}
