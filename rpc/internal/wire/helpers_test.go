package wire

import (
	"encoding/hex"
	"reflect"
	"strings"
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"
)

// h decodes hex written with any spacing, so test vectors can be grouped by element.
func h(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// tl builds one element from already-encoded parts, independently of the
// encoder under test (one-byte type, lengths up to 0xffff).
func tl(typ byte, parts ...[]byte) []byte {
	var v []byte
	for _, p := range parts {
		v = append(v, p...)
	}
	out := []byte{typ}
	if len(v) <= 0xfc {
		out = append(out, byte(len(v)))
	} else {
		out = append(out, 0xfd, byte(len(v)>>8), byte(len(v)))
	}
	return append(out, v...)
}

func str(s string) []byte { return []byte(s) }

func name(t testing.TB, uri string) enc.Name {
	t.Helper()
	n, err := enc.NameFromStr(uri)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func rid() []byte {
	return []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
}

// normName maps empty component values to nil so names compare by content.
func normName(n enc.Name) enc.Name {
	if len(n) == 0 {
		return nil
	}
	out := make(enc.Name, len(n))
	for i, c := range n {
		out[i] = enc.Component{Typ: c.Typ}
		if len(c.Val) > 0 {
			out[i].Val = c.Val
		}
	}
	return out
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

func normMD(md []MD) []MD {
	if len(md) == 0 {
		return nil
	}
	out := make([]MD, len(md))
	for i, p := range md {
		out[i] = MD{Key: p.Key, Value: nilIfEmpty(p.Value)}
	}
	return out
}

func normReq(r *Request) Request {
	c := *r
	c.Payload = nilIfEmpty(c.Payload)
	c.RequestID = nilIfEmpty(c.RequestID)
	c.Metadata = normMD(c.Metadata)
	c.PayloadName = normName(c.PayloadName)
	return c
}

func normResp(r *Response) Response {
	c := *r
	c.Payload = nilIfEmpty(c.Payload)
	c.Details = nilIfEmpty(c.Details)
	c.Metadata = normMD(c.Metadata)
	c.Continuation = normName(c.Continuation)
	return c
}

func equalReq(a, b *Request) bool   { return reflect.DeepEqual(normReq(a), normReq(b)) }
func equalResp(a, b *Response) bool { return reflect.DeepEqual(normResp(a), normResp(b)) }
