package svsync

import (
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"
	spec_svs "github.com/named-data/ndnd/std/ndn/svs/v3"
)

// FuzzDecodeStateVector also checks that ndnd's parser, which SvSync runs
// on what we let through, neither panics nor disagrees with us.
func FuzzDecodeStateVector(f *testing.F) {
	f.Add(EncodeStateVector([]Entry{{Name: nm("/a"), Boot: 1, Seq: 2}, {Name: nm("/a"), Boot: 3, Seq: 4}, {Name: nm("/b/c"), Boot: 5, Seq: 1 << 33}}))
	f.Add(EncodeStateVector(nil))
	f.Add([]byte{0xc9, 0x04, 0xca, 0x02, 0x07, 0x00})
	f.Add([]byte{0xc9, 0x07, 0xca, 0x05, 0x07, 0x03, 0x08, 0x01, 0x61})
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := DecodeStateVector(b)
		if err != nil {
			return
		}
		if len(entries) > MaxEntries {
			t.Fatalf("%d entries", len(entries))
		}
		for _, e := range entries {
			if !UsableName(e.Name) {
				t.Fatalf("unusable name %v", e.Name)
			}
		}
		again, err := DecodeStateVector(EncodeStateVector(entries))
		if err != nil || len(again) != len(entries) {
			t.Fatalf("round trip: %d entries, %v", len(again), err)
		}
		for i := range entries {
			if !again[i].Name.Equal(entries[i].Name) || again[i].Boot != entries[i].Boot || again[i].Seq != entries[i].Seq {
				t.Fatalf("round trip of entry %d", i)
			}
		}
		// What SvSync does next (std/sync/svs.go:538).
		var nd []Entry
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("ndnd's ParseSvsData panicked on input we accept: %v", r)
				}
			}()
			params, err := spec_svs.ParseSvsData(enc.NewBufferView(b), false)
			if err != nil || params.StateVector == nil {
				nd = nil
				return
			}
			for _, e := range params.StateVector.Entries {
				for _, s := range e.SeqNoEntries {
					nd = append(nd, Entry{Name: e.Name, Boot: s.BootstrapTime, Seq: s.SeqNo})
				}
			}
		}()
		if nd == nil {
			return // ndnd refuses it (e.g. an unknown critical TLV): SvSync drops it
		}
		if len(nd) != len(entries) {
			t.Fatalf("ndnd reads %d entries, we %d", len(nd), len(entries))
		}
		for i := range nd {
			if !nd[i].Name.Equal(entries[i].Name) || nd[i].Boot != entries[i].Boot || nd[i].Seq != entries[i].Seq {
				t.Fatalf("ndnd reads entry %d as %v/%d/%d, we %v/%d/%d", i,
					nd[i].Name, nd[i].Boot, nd[i].Seq, entries[i].Name, entries[i].Boot, entries[i].Seq)
			}
		}
	})
}
