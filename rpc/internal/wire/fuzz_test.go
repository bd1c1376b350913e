package wire

import (
	"bytes"
	"errors"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
)

// canonicalOrder reports whether the message x (already known to decode)
// has only known elements, in the encoder's order, with Key before Value in
// every Metadata pair. For such input Encode(Decode(x)) must equal x.
func canonicalOrder(x []byte, order []uint64) bool {
	rank := map[uint64]int{}
	for i, t := range order {
		rank[t] = i
	}
	top := reader{b: x}
	_, v, _, err := top.next(0)
	if err != nil {
		return false
	}
	r := top.sub(v)
	last := -1
	for !r.eof() {
		t, v, _, err := r.next(0)
		if err != nil {
			return false
		}
		k, ok := rank[t]
		if !ok || k < last || (k == last && t != tMetadata) {
			return false
		}
		last = k
		if t == tMetadata {
			mr := r.sub(v)
			kt, _, _, _ := mr.next(0)
			vt, _, _, _ := mr.next(0)
			if kt != tKey || vt != tValue || !mr.eof() {
				return false
			}
		}
	}
	return true
}

var (
	requestOrder  = []uint64{tPayload, tContentType, tRequestID, tTimeout, tTraceParent, tTraceState, tMetadata, tPayloadName, tUpstream}
	responseOrder = []uint64{tStatus, tMessage, tPayload, tContentType, tMetadata, tContinuation, tDetails, tKind}
)

func FuzzDecodeRequest(f *testing.F) {
	seeds := []*Request{
		{},
		typicalRequest(f),
		{Payload: str("x"), ContentType: "raw", Timeout: time.Hour * 24 * 400},
		{PayloadName: enc.Name{{Typ: 8, Val: str("big")}, {Typ: 0x36, Val: []byte{1}}}, RequestID: rid()},
		{TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", TraceState: "a=b",
			Metadata: []MD{{"a", nil}, {"b", str("c")}, {"a", str("d")}}},
		{Payload: str("{}"), RequestID: rid(), Upstream: enc.Name{{Typ: 8, Val: str("alice")}, {Typ: 8, Val: str("_up")}, {Typ: 8, Val: str("00ff")}}},
		{PayloadName: enc.Name{{Typ: 8, Val: str("big")}}, Upstream: enc.Name{{Typ: 0x3a, Val: []byte{7}}}},
	}
	for _, s := range seeds {
		f.Add(s.Encode())
	}
	f.Add(tl(0x80, []byte{0x8c, 0x00, 0x81, 0x01, 0x61})) // unknown even type, then Payload
	f.Add([]byte{0x80, 0x02, 0x8b, 0x00})                 // unknown odd type
	f.Fuzz(func(t *testing.T, x []byte) {
		r, err := DecodeRequest(x)
		if err != nil {
			if !errors.Is(err, ErrMalformed) || r != nil {
				t.Fatalf("DecodeRequest(%x) = %v, %v", x, r, err)
			}
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("decoded request fails Validate: %v", err)
		}
		y := r.Encode()
		if r.EncodedLen() != len(y) {
			t.Fatalf("EncodedLen = %d, len(Encode()) = %d", r.EncodedLen(), len(y))
		}
		r2, err := DecodeRequest(y)
		if err != nil {
			t.Fatalf("re-decode of %x: %v", y, err)
		}
		if !equalReq(r, r2) {
			t.Fatalf("round trip changed the request:\n%+v\n%+v", *r, *r2)
		}
		if z := r2.Encode(); !bytes.Equal(y, z) {
			t.Fatalf("encoding is not stable:\n%x\n%x", y, z)
		}
		if canonicalOrder(x, requestOrder) && !bytes.Equal(x, y) {
			t.Fatalf("canonical input re-encodes differently:\n in %x\nout %x", x, y)
		}
	})
}

func FuzzDecodeResponse(f *testing.F) {
	seeds := []*Response{
		{},
		{Payload: str(`{"sum":3}`), ContentType: "json"},
		{Status: 5, Message: "not found", Details: str("d")},
		{Status: 1000, Metadata: []MD{{"x", str("y")}, {"x", nil}}},
		{Kind: KindObject, Continuation: enc.Name{{Typ: 8, Val: str("obj")}, {Typ: 0x36, Val: []byte{1, 2}}}},
		{Kind: KindStream, Continuation: enc.Name{{Typ: 8, Val: str("s")}}},
		{Kind: KindOperation, Continuation: enc.Name{{Typ: 8, Val: str("op")}}},
	}
	for _, s := range seeds {
		f.Add(s.Encode())
	}
	f.Add(tl(0x90, []byte{0xa0, 0x00, 0x91, 0x01, 0x05})) // unknown even type, then Status
	f.Fuzz(func(t *testing.T, x []byte) {
		r, err := DecodeResponse(x)
		if err != nil {
			if !errors.Is(err, ErrMalformed) || r != nil {
				t.Fatalf("DecodeResponse(%x) = %v, %v", x, r, err)
			}
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("decoded response fails Validate: %v", err)
		}
		y := r.Encode()
		if r.EncodedLen() != len(y) {
			t.Fatalf("EncodedLen = %d, len(Encode()) = %d", r.EncodedLen(), len(y))
		}
		r2, err := DecodeResponse(y)
		if err != nil {
			t.Fatalf("re-decode of %x: %v", y, err)
		}
		if !equalResp(r, r2) {
			t.Fatalf("round trip changed the response:\n%+v\n%+v", *r, *r2)
		}
		if z := r2.Encode(); !bytes.Equal(y, z) {
			t.Fatalf("encoding is not stable:\n%x\n%x", y, z)
		}
		if canonicalOrder(x, responseOrder) && !bytes.Equal(x, y) {
			t.Fatalf("canonical input re-encodes differently:\n in %x\nout %x", x, y)
		}
	})
}
