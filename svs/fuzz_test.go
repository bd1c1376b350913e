package svs

import (
	"bytes"
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"
	spec_svs "github.com/named-data/ndnd/std/ndn/svs/v3"

	"github.com/ndn-invoke/ndn-invoke/internal/tlv"
)

// Every decoder of network input is fuzzed: no panic, bounded results,
// and encode(decode(x)) decodes to the same value.

func FuzzDecodePublication(f *testing.F) {
	f.Add(encodePublication(&publication{time: 1, records: []record{{kind: recAlive}}}))
	f.Add(encodePublication(&publication{time: 1 << 40, records: []record{
		{kind: recEvent, ltime: 3, label: "deploy", payload: []byte("v1")},
		{kind: recQuery, id: queryID{1}, ltime: 4, label: "load", filter: "/a/<...>", deadline: 99, payload: []byte{}},
		{kind: recLeave}, {kind: recGone},
	}}))
	f.Add([]byte{0xe0, 0x00})
	f.Add([]byte{0x05, 0x07, 0x07, 0xfe, 0x31, 0x30, 0x30, 0x30, 0x30})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := decodePublication(b)
		if err != nil {
			return
		}
		for _, r := range p.records {
			if r.kind == recEvent || r.kind == recQuery {
				if !validLabel([]byte(r.label)) || len(r.payload) > MaxPayloadLimit || len(r.filter) > MaxFilterLen {
					t.Fatalf("decoded an out-of-bounds record %+v", r)
				}
			}
		}
		again, err := decodePublication(encodePublication(p))
		if err != nil {
			t.Fatalf("re-encoded publication does not decode: %v", err)
		}
		if len(again.records) != len(p.records) || again.time != p.time {
			t.Fatalf("round trip: %+v != %+v", again, p)
		}
		for i := range p.records {
			a, b := again.records[i], p.records[i]
			if a.kind != b.kind || a.ltime != b.ltime || a.label != b.label || !bytes.Equal(a.payload, b.payload) ||
				a.id != b.id || a.filter != b.filter || a.deadline != b.deadline {
				t.Fatalf("round trip of record %d: %+v != %+v", i, a, b)
			}
		}
	})
}

func FuzzDecodeAnswer(f *testing.F) {
	f.Add(encodeAnswer(queryID{1, 2}, []byte("answer")))
	f.Add(encodeAnswer(queryID{}, nil))
	f.Add([]byte{0xe8, 0x0a, 0xf3, 0x08, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Fuzz(func(t *testing.T, b []byte) {
		id, payload, err := decodeAnswer(b)
		if err != nil {
			return
		}
		if payload == nil || len(payload) > MaxPayloadLimit {
			t.Fatalf("payload %d bytes (nil %v)", len(payload), payload == nil)
		}
		id2, payload2, err := decodeAnswer(encodeAnswer(id, payload))
		if err != nil || id2 != id || !bytes.Equal(payload, payload2) {
			t.Fatalf("round trip: %v %x %v", id2, payload2, err)
		}
	})
}

// FuzzDecodeStateVector also checks that ndnd's parser, which SvSync runs
// on what we let through, neither panics nor disagrees with us.
func FuzzDecodeStateVector(f *testing.F) {
	f.Add(encodeStateVector([]svEntry{{name: nm("/a"), boot: 1, seq: 2}, {name: nm("/a"), boot: 3, seq: 4}, {name: nm("/b/c"), boot: 5, seq: 1 << 33}}))
	f.Add(encodeStateVector(nil))
	f.Add([]byte{0xc9, 0x04, 0xca, 0x02, 0x07, 0x00})
	f.Add([]byte{0xc9, 0x07, 0xca, 0x05, 0x07, 0x03, 0x08, 0x01, 0x61})
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := decodeStateVector(b)
		if err != nil {
			return
		}
		if len(entries) > maxSVEntries {
			t.Fatalf("%d entries", len(entries))
		}
		for _, e := range entries {
			if !usableName(e.name) {
				t.Fatalf("unusable name %v", e.name)
			}
		}
		again, err := decodeStateVector(encodeStateVector(entries))
		if err != nil || len(again) != len(entries) {
			t.Fatalf("round trip: %d entries, %v", len(again), err)
		}
		for i := range entries {
			if !again[i].name.Equal(entries[i].name) || again[i].boot != entries[i].boot || again[i].seq != entries[i].seq {
				t.Fatalf("round trip of entry %d", i)
			}
		}
		// What SvSync does next (std/sync/svs.go:538).
		var nd []svEntry
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
					nd = append(nd, svEntry{name: e.Name, boot: s.BootstrapTime, seq: s.SeqNo})
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
			if !nd[i].name.Equal(entries[i].name) || nd[i].boot != entries[i].boot || nd[i].seq != entries[i].seq {
				t.Fatalf("ndnd reads entry %d as %v/%d/%d, we %v/%d/%d", i,
					nd[i].name, nd[i].boot, nd[i].seq, entries[i].name, entries[i].boot, entries[i].seq)
			}
		}
	})
}

// FuzzParseNames parses Interest and Sync Data names as the group does.
func FuzzParseNames(f *testing.F) {
	group, member := nm("/g"), nm("/m")
	f.Add(tlv.AppendNameValue(nil, pubName(member, group, 5, 7)))
	f.Add(tlv.AppendNameValue(nil, join(answerName(member, group, queryID{1}), nil, enc.Component{Typ: enc.TypeParametersSha256DigestComponent, Val: make([]byte, 32)})))
	f.Add(tlv.AppendNameValue(nil, join(syncDataName(member, group), nil, enc.NewVersionComponent(1))))
	f.Fuzz(func(t *testing.T, b []byte) {
		name, err := tlv.DecodeName(b)
		if err != nil {
			return
		}
		prefix := dataPrefix(member, group)
		if prefix.IsPrefix(name) {
			kind, _, _, _ := parseServed(name[len(prefix):])
			_ = kind
		}
		if m, _, ok := parseSyncDataName(name, group); ok {
			if !join(m, group, svsKeyword).IsPrefix(name) {
				t.Fatalf("parsed member %v of %v", m, name)
			}
		}
		_ = identityOf(name)
	})
}

// FuzzCompileFilter compiles filters as members do with the ones queries
// carry.
func FuzzCompileFilter(f *testing.F) {
	for _, s := range []string{"", "/a", "/a/<...>", "/a/*/b", "/<x>/<x>", "/a\nallow any to call /", "/%2A", "/a/<...>/b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := compileFilter(s)
		if err != nil || flt == nil {
			if flt == nil && err == nil && s != "" {
				t.Fatalf("filter %q compiled to nothing", s)
			}
			return
		}
		if len(flt.p.Rules()) != 1 {
			t.Fatalf("filter %q compiled to %d rules", s, len(flt.p.Rules()))
		}
		_ = flt.match(nm("/a/b"))
		_ = flt.match(enc.Name{})
	})
}
