package pubsub

import (
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/internal/svsync"
)

// FuzzDecodeArchiveState checks that a saved archive state never panics
// the decoder, that what it accepts names streams, and that it
// round-trips.
func FuzzDecodeArchiveState(f *testing.F) {
	pub, _ := enc.NameFromStr("/org/alice")
	topic, _ := enc.NameFromStr("/chat/room")
	e := entryName(pub, topic)
	f.Add(encodeArchiveState([]svsync.Entry{{Name: e, Boot: 1700000000, Seq: 20}, {Name: e, Boot: 1700000100, Seq: 3}}))
	f.Add(encodeArchiveState(nil))
	f.Add(svsync.EncodeStateVector([]svsync.Entry{{Name: pub, Boot: 1, Seq: 1}}))
	f.Add([]byte{0xc9, 0x03, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := decodeArchiveState(b)
		if err != nil {
			return
		}
		for _, e := range entries {
			if _, _, ok := parseEntry(e.Name); !ok || e.Seq == 0 {
				t.Fatalf("accepted entry %v seq %d", e.Name, e.Seq)
			}
		}
		again, err := decodeArchiveState(encodeArchiveState(entries))
		if err != nil || len(again) != len(entries) {
			t.Fatalf("round trip: %d entries, %v", len(again), err)
		}
		for i := range entries {
			if !again[i].Name.Equal(entries[i].Name) || again[i].Boot != entries[i].Boot || again[i].Seq != entries[i].Seq {
				t.Fatalf("round trip of entry %d", i)
			}
		}
	})
}

func TestDecodeArchiveState(t *testing.T) {
	pub, _ := enc.NameFromStr("/org/alice")
	topic, _ := enc.NameFromStr("/t")
	for _, tc := range []struct {
		name    string
		in      []byte
		wantErr bool
	}{
		{"empty state", encodeArchiveState(nil), false},
		{"one stream", encodeArchiveState([]svsync.Entry{{Name: entryName(pub, topic), Boot: 5, Seq: 9}}), false},
		{"not a stream entry", encodeArchiveState([]svsync.Entry{{Name: pub, Boot: 5, Seq: 9}}), true},
		{"seq zero", encodeArchiveState([]svsync.Entry{{Name: entryName(pub, topic), Boot: 5, Seq: 0}}), true},
		{"truncated", []byte{0xc9, 0x03, 0x01}, true},
		{"nothing", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeArchiveState(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
		})
	}
}
