package svs

import (
	"bytes"
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"

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
