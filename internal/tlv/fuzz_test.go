package tlv

import (
	"bytes"
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"
)

// The decoders are fuzzed: no panic, values always inside the input, and
// encode(decode(x)) round trips (byte for byte where the encoding is
// canonical).

// FuzzReader walks any bytes with both Readers and re-encodes what they
// read.
func FuzzReader(f *testing.F) {
	f.Add([]byte{})
	f.Add(AppendName(AppendNat(nil, 0xd6, 1<<40), enc.Name{gc("a"), enc.NewVersionComponent(300)}))
	f.Add([]byte{0xfd, 0x00, 0x08, 0xfe, 0x00, 0x00, 0x00, 0x01, 0x61})       // longer forms
	f.Add([]byte{0x05, 0x07, 0x07, 0xfe, 0x31, 0x30, 0x30, 0x30, 0x30})       // the 12 GiB name
	f.Add([]byte{0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) // huge length
	f.Add([]byte{0x08, 0x01, 0x61, 0x00, 0x00})                               // type 0
	f.Fuzz(func(t *testing.T, b []byte) {
		lenient := NewReader(b)
		canonical := NewCanonicalReader(b)
		var again []byte // the lenient Reader's elements, re-encoded
		consumed := 0    // bytes the canonical Reader read without error
		canonicalOK := true
		for lenient.More() {
			typ, val, err := lenient.Next()
			if err != nil {
				break
			}
			// The value ends where the unread bytes start.
			end := len(b) - len(lenient.b)
			if typ == 0 || cap(val) != len(val) || end < len(val) || len(val) > 0 && &val[0] != &b[end-len(val)] {
				t.Fatalf("Next returned type %#x, value %x (cap %d) not at the end of the bytes read", typ, val, cap(val))
			}
			again = AppendTLV(again, typ, val)
			if !canonicalOK {
				continue
			}
			ct, cv, err := canonical.Next()
			if err != nil {
				canonicalOK = false
				continue
			}
			// Where the canonical Reader accepts, both Readers agree and
			// the bytes are exactly the shortest encoding.
			if ct != typ || !bytes.Equal(cv, val) {
				t.Fatalf("canonical read %#x %x, lenient %#x %x", ct, cv, typ, val)
			}
			next := len(b) - len(canonical.b)
			if enc := AppendTLV(nil, typ, val); !bytes.Equal(enc, b[consumed:next]) {
				t.Fatalf("canonical element %x re-encodes as %x", b[consumed:next], enc)
			}
			consumed = next
		}
		// What the lenient Reader read re-encodes to a canonical sequence
		// with the same elements.
		r := NewCanonicalReader(again)
		for r.More() {
			if _, _, err := r.Next(); err != nil {
				t.Fatalf("re-encoded elements %x do not read canonically: %v", again, err)
			}
		}
	})
}

// FuzzDecodeName decodes any bytes as a Name value and checks the round
// trip, CheckName's agreement, and ndnd's agreement on what it encodes
// correctly.
func FuzzDecodeName(f *testing.F) {
	f.Add([]byte{})
	f.Add(AppendNameValue(nil, enc.Name{gc("a"), enc.NewVersionComponent(7), enc.NewSegmentComponent(300)}))
	f.Add(AppendNameValue(nil, enc.Name{enc.NewGenericBytesComponent(make([]byte, 253)), gc("")}))
	f.Add([]byte{0xfd, 0x00, 0x08, 0x01, 0x61}) // a longer type form
	f.Add([]byte{0x07, 0xfe, 0x31, 0x30, 0x30, 0x30, 0x30})
	f.Add([]byte{0xfe, 0x00, 0x01, 0x00, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := DecodeName(b)
		if errCheck := CheckName(b, -1); (errCheck == nil) != (err == nil) {
			t.Fatalf("CheckName %v, DecodeName %v", errCheck, err)
		}
		if err != nil {
			if n != nil {
				t.Fatalf("DecodeName returned %v with error %v", n, err)
			}
			return
		}
		if n == nil {
			t.Fatal("DecodeName returned a nil Name without error")
		}
		if (CheckName(b, NdndMaxComponentLen) == nil) != NdndEncodable(n) {
			t.Fatalf("CheckName with the ndnd limit disagrees with NdndEncodable for %v", n)
		}
		val := AppendNameValue(nil, n)
		if len(val) != NameValueLen(n) {
			t.Fatalf("NameValueLen %d, encoded %d", NameValueLen(n), len(val))
		}
		again, err := DecodeName(val)
		if err != nil || !again.Equal(n) {
			t.Fatalf("round trip of %v: %v, %v", n, again, err)
		}
		if !bytes.Equal(AppendNameValue(nil, again), val) {
			t.Fatalf("second encoding differs")
		}
		// Input in canonical form re-encodes byte for byte.
		canonical := true
		for r := NewCanonicalReader(b); r.More(); {
			if _, _, err := r.Next(); err != nil {
				canonical = false
				break
			}
		}
		if canonical && !bytes.Equal(val, b) {
			t.Fatalf("canonical %x re-encodes as %x", b, val)
		}
		if NdndEncodable(n) {
			nd, err := enc.NameFromBytes(AppendName(nil, n))
			if err != nil || !nd.Equal(n) {
				t.Fatalf("ndnd reads %v, %v; want %v", nd, err, n)
			}
		}
	})
}
