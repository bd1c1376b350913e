package groupsync

import (
	"bytes"
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	rdr "github.com/named-data/ndnd/std/ndn/rdr_2024"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/ndn/svs_ps"
	sig "github.com/named-data/ndnd/std/security/signer"

	"github.com/ndn-invoke/ndn-invoke/internal/tlv"
)

// Every decoder of this package is fuzzed: no panic, no allocation beyond
// what the input implies, and decode(encode(decode(x))) == decode(x).

func FuzzDecodeState(f *testing.F) {
	f.Add(encodeState(&savedState{}))
	f.Add(encodeState(&savedState{
		streams: []savedStream{{node: alice, boot: 7, known: 3, latest: 9, snapKnown: 1, wire: 0}, {node: bob, boot: 1, wire: -1}},
		wires:   [][]byte{[]byte("w")},
	}))
	f.Add([]byte{0xC0, 0x03, 0xC1, 0x01, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := decodeState(b)
		if err != nil {
			return
		}
		again, err := decodeState(encodeState(st))
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !equalStates(st, again) {
			t.Fatalf("round trip changed the state:\n%+v\n%+v", st, again)
		}
	})
}

func equalStates(a, b *savedState) bool {
	if len(a.streams) != len(b.streams) || len(a.wires) != len(b.wires) {
		return false
	}
	for i := range a.streams {
		x, y := a.streams[i], b.streams[i]
		if !x.node.Equal(y.node) || x.boot != y.boot || x.known != y.known || x.latest != y.latest ||
			x.snapKnown != y.snapKnown || x.wire != y.wire {
			return false
		}
	}
	for i := range a.wires {
		if !bytes.Equal(a.wires[i], b.wires[i]) {
			return false
		}
	}
	return true
}

func FuzzDecodeStateVector(f *testing.F) {
	f.Add(ndndStateVector(map[string][][2]uint64{"/g/a": {{1, 2}, {3, 4}}, "/g/b": {{5, 6}}}, []string{"/g/a", "/g/b"}))
	f.Add(ndndStateVector(nil, nil))
	f.Add([]byte{0xc9, 0x09, 0xca, 0x07, 0x07, 0xfe, 0x31, 0x30, 0x30, 0x30, 0x30})
	f.Fuzz(func(t *testing.T, b []byte) {
		es, err := decodeStateVector(b)
		if err != nil {
			return
		}
		again, err := decodeStateVector(encodeStateVector(es))
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		// Encoding groups entries by node: compare as multisets per node.
		if len(again) != len(es) {
			t.Fatalf("round trip: %d entries, then %d", len(es), len(again))
		}
		count := map[string]int{}
		for _, e := range es {
			count[nameKey(e.node)+string(tlv.AppendVarNum(tlv.AppendVarNum(nil, e.boot), e.seq))]++
		}
		for _, e := range again {
			count[nameKey(e.node)+string(tlv.AppendVarNum(tlv.AppendVarNum(nil, e.boot), e.seq))]--
		}
		for k, n := range count {
			if n != 0 {
				t.Fatalf("round trip changed entry %x", k)
			}
		}
	})
}

func FuzzDecodeHistoryIndex(f *testing.F) {
	f.Add((&svs_ps.HistoryIndex{SeqNos: []uint64{1, 11, 21}}).Encode().Join())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		seqs, err := decodeHistoryIndex(b)
		if err != nil {
			return
		}
		again, err := decodeHistoryIndex(encodeHistoryIndex(seqs))
		if err != nil || len(again) != len(seqs) {
			t.Fatalf("round trip: %v %v %v", seqs, again, err)
		}
		for i := range seqs {
			if seqs[i] != again[i] {
				t.Fatalf("round trip: %v %v", seqs, again)
			}
		}
	})
}

func FuzzDecodeHistorySnap(f *testing.F) {
	f.Add((&svs_ps.HistorySnap{Entries: []*svs_ps.HistorySnapEntry{
		{SeqNo: 1, Content: enc.Wire{[]byte("a")}}, {SeqNo: 3, Content: enc.Wire{[]byte("bc")}},
	}}).Encode().Join())
	f.Add([]byte{0x82, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		es, err := decodeHistorySnap(b)
		if err != nil {
			return
		}
		again, err := decodeHistorySnap(encodeHistorySnap(es))
		if err != nil || len(again) != len(es) {
			t.Fatalf("round trip: %v", err)
		}
		for i := range es {
			if es[i].seq != again[i].seq || !bytes.Equal(es[i].content, again[i].content) {
				t.Fatalf("round trip changed entry %d", i)
			}
		}
	})
}

func FuzzDecodeMetadataName(f *testing.F) {
	name, _ := enc.NameFromStr("/g/alice/t=5/32=HIDX/v=21")
	f.Add((&rdr.MetaData{Name: name, FinalBlockID: enc.NewSegmentComponent(0).Bytes()}).Encode().Join())
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := decodeMetadataName(b)
		if err != nil {
			return
		}
		_, v, err := tlv.Single(tlv.AppendName(nil, n))
		if err != nil {
			t.Fatal(err)
		}
		again, err := tlv.DecodeName(v)
		if err != nil || !again.Equal(n) {
			t.Fatalf("round trip: %v %v", n, again)
		}
	})
}

// FuzzParseData: the Sync Data carried by a Sync Interest goes through
// security.WellFormed and ndnd's ReadData; neither may panic or allocate
// without bound.
func FuzzParseData(f *testing.F) {
	name, _ := enc.NameFromStr("/g/alice/t=5/32=svs/v=1")
	d, err := spec.Spec{}.MakeData(name, &ndn.DataConfig{}, enc.Wire{ndndStateVector(
		map[string][][2]uint64{"/g/alice": {{5, 1}}}, []string{"/g/alice"})}, sig.NewSha256Signer())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(d.Wire.Join())
	f.Add([]byte{0x05, 0x07, 0x07, 0xfe, 0x31, 0x30, 0x30, 0x30, 0x30})
	f.Add([]byte{0x06, 0x07, 0x07, 0xfe, 0x31, 0x30, 0x30, 0x30, 0x30})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, _, err := parseData(b)
		if err != nil {
			return
		}
		if d.Name() == nil {
			t.Fatal("parsed Data without a name")
		}
		_, _ = decodeStateVector(d.Content().Join())
	})
}
