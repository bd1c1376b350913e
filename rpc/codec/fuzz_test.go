package codec

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// FuzzJSONUnmarshal checks that JSON.Unmarshal never panics, and that
// whatever it accepts re-encodes to a fixed point: decode(encode(v)) encodes
// to the same bytes again.
func FuzzJSONUnmarshal(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `null`, `{"a":"x","b":2,"tags":{"k":"v"}}`, `{"n":1.5e10,"l":[true,null,"\u00e9"]}`,
		`{"b":-0}`, `[1,2]`, `"s"`, `{"a":`, `{"b":"x"}`, `{"tags":{"z":"1","a":"2"}}`, `{"x":{"y":{"z":[[]]}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var c JSON
		roundTrip(t, c, data, func() any { return new(map[string]any) })
		roundTrip(t, c, data, func() any { return new(args) })
		roundTrip(t, c, data, func() any { return new(any) })
	})
}

func roundTrip(t *testing.T, c Codec, data []byte, alloc func() any) {
	t.Helper()
	v := alloc()
	if err := c.Unmarshal(data, v); err != nil {
		return
	}
	b1, err := c.Marshal(v)
	if err != nil {
		t.Fatalf("Marshal after Unmarshal(%q): %v", data, err)
	}
	v2 := alloc()
	if err := c.Unmarshal(b1, v2); err != nil {
		t.Fatalf("Unmarshal(%q) of own output: %v", b1, err)
	}
	b2, err := c.Marshal(v2)
	if err != nil {
		t.Fatalf("second Marshal: %v", err)
	}
	if !bytes.Equal(b1, b2) {
		t.Fatalf("not a fixed point:\n%q\n%q", b1, b2)
	}
}

// FuzzProtoUnmarshal checks that Proto.Unmarshal never panics on arbitrary
// bytes and that accepted input round-trips.
func FuzzProtoUnmarshal(f *testing.F) {
	st, err := structpb.NewStruct(map[string]any{"a": 1, "b": "x", "c": []any{true, nil}, "d": map[string]any{"e": 2}})
	if err != nil {
		f.Fatal(err)
	}
	seed, err := Proto{}.Marshal(st)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x05, 'h'})
	f.Fuzz(func(t *testing.T, data []byte) {
		var c Proto
		v := new(structpb.Struct)
		if err := c.Unmarshal(data, v); err != nil {
			return
		}
		b, err := c.Marshal(v)
		if err != nil {
			t.Fatalf("Marshal after Unmarshal: %v", err)
		}
		v2 := new(structpb.Struct)
		if err := c.Unmarshal(b, v2); err != nil {
			t.Fatalf("Unmarshal of own output: %v", err)
		}
		if !proto.Equal(v, v2) {
			t.Fatalf("round trip: %v != %v", v, v2)
		}
	})
}
