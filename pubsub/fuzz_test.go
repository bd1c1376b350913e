package pubsub

import (
	"bytes"
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/internal/tlv"
)

func FuzzDecodeBatch(f *testing.F) {
	f.Add(encodeBatch(&batch{msgs: []wireMsg{{micros: 1, payload: []byte("hi")}, {micros: 2, large: 1 << 20}}}))
	f.Add(encodeBatch(&batch{gone: true}))
	f.Add(encodeBatch(&batch{}))
	f.Add([]byte{0x05, 0x07, 0x07, 0xfe, 0x31, 0x30, 0x30, 0x30, 0x30})
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := decodeBatch(b)
		if err != nil {
			return
		}
		if len(x.msgs) > maxBatchMessages {
			t.Fatalf("%d messages", len(x.msgs))
		}
		y, err := decodeBatch(encodeBatch(x))
		if err != nil || y.gone != x.gone || len(y.msgs) != len(x.msgs) {
			t.Fatalf("round trip: %v", err)
		}
		for i := range x.msgs {
			a, b := x.msgs[i], y.msgs[i]
			if a.micros != b.micros || a.large != b.large || !bytes.Equal(a.payload, b.payload) {
				t.Fatalf("message %d: %+v != %+v", i, a, b)
			}
		}
	})
}

// FuzzParseNames parses the names SVS and Interests bring: entry names
// and publication names.
func FuzzParseNames(f *testing.F) {
	pub, _ := enc.NameFromStr("/p")
	topic, _ := enc.NameFromStr("/t/u")
	group, _ := enc.NameFromStr("/g")
	f.Add(tlv.AppendNameValue(nil, entryName(pub, topic)))
	f.Add(tlv.AppendNameValue(nil, pubName(pub, group, topic, 5, 7)))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := tlv.DecodeName(b)
		if err != nil {
			return
		}
		if p, tp, ok := parseEntry(n); ok {
			if !entryName(p, tp).Equal(n) {
				t.Fatalf("entry round trip %v", n)
			}
		}
		if tp, boot, seq, ok := parsePubName(n); ok {
			back := pubName(nil, nil, tp, boot, seq)[1:]
			if len(tp) == 0 || !back.Equal(n) {
				t.Fatalf("publication name round trip %v", n)
			}
		}
	})
}

func FuzzDecodePosition(f *testing.F) {
	f.Add(encodePosition(3, 4))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		seq, idx, ok := decodePosition(b)
		if ok && !bytes.Equal(encodePosition(seq, idx), b) {
			t.Fatalf("round trip")
		}
	})
}
