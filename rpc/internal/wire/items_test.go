package wire

import (
	"bytes"
	"errors"
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"
)

func TestItems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []*Response
		want string
	}{
		{"one item", []*Response{{Payload: str("a")}}, "90 03 8101 61"},
		{"end marker alone", []*Response{{}}, "90 00"},
		{"items then end", []*Response{{Payload: str("a")}, {Payload: str("b"), ContentType: "raw"}, {}},
			"90 03 8101 61  90 08 8101 62 8203 726177  90 00"},
		{"items then error", []*Response{{Payload: str("a")}, {Status: 9, Message: "x"}},
			"90 03 8101 61  90 06 9101 09 9201 78"},
		{"empty items", []*Response{{}, {}, {}}, "9000 9000 9000"},
		{"result with continuation last", []*Response{{Kind: KindObject, Continuation: name(t, "/o")}},
			"90 0a 93 05 0703 0801 6f 95 01 01"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want := h(t, tc.want)
			got := EncodeItems(tc.in)
			if !bytes.Equal(got, want) {
				t.Fatalf("EncodeItems:\n got %x\nwant %x", got, want)
			}
			dec, err := DecodeItems(got)
			if err != nil {
				t.Fatalf("DecodeItems: %v", err)
			}
			if len(dec) != len(tc.in) {
				t.Fatalf("DecodeItems: %d items, want %d", len(dec), len(tc.in))
			}
			for i := range dec {
				if !equalResp(dec[i], tc.in[i]) {
					t.Fatalf("item %d:\n got %+v\nwant %+v", i, *dec[i], *tc.in[i])
				}
			}
			got[0] ^= 0xff // the result does not alias the input
			if dec[0].Kind != tc.in[0].Kind || !bytes.Equal(dec[0].Payload, tc.in[0].Payload) {
				t.Fatal("DecodeItems result aliases its input")
			}
		})
	}
}

func TestDecodeItemsRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"not a response", "80 00"},
		{"response then request", "90 00 80 00"},
		{"truncated second item", "90 03 8101 61 90 03 8101"},
		{"trailing byte", "90 00 90"},
		{"bad inner element", "90 03 8101 61 90 02 8100"},
		{"item after an error", "90 03 9101 05 90 03 8101 61"},
		{"item after a continuation", "90 0a 93 05 0703 0801 6f 95 01 01 90 00"},
		{"huge length", "90 fe 7fffffff"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			items, err := DecodeItems(h(t, tc.in))
			if !errors.Is(err, ErrMalformed) || items != nil {
				t.Fatalf("DecodeItems(%s) = %v, %v; want ErrMalformed", tc.in, items, err)
			}
		})
	}
}

// TestDecodeItemsOffset: an error inside a later item names its offset in
// the whole packet.
func TestDecodeItemsOffset(t *testing.T) {
	t.Parallel()
	_, err := DecodeItems(h(t, "90 03 8101 61  90 02 8100"))
	var fe *fieldError
	if !errors.As(err, &fe) || fe.off != 7 {
		t.Fatalf("err = %v, want one at offset 7", err)
	}
}

func FuzzDecodeItems(f *testing.F) {
	seeds := [][]*Response{
		{{}},
		{{Payload: str("a")}, {Payload: str("bb"), ContentType: "json"}, {}},
		{{Payload: str("a"), Metadata: []MD{{"k", str("v")}}}, {Status: 13, Message: "boom", Details: str("d")}},
		{{Kind: KindObject, Continuation: enc.Name{{Typ: 8, Val: str("obj")}}}},
		{{Payload: bytes.Repeat([]byte{7}, 300)}, {Payload: str("x")}},
	}
	for _, s := range seeds {
		f.Add(EncodeItems(s))
	}
	f.Add([]byte{0x90, 0x00, 0x90, 0x02, 0xa0, 0x00}) // an unknown even type inside the second
	f.Add([]byte{0x90, 0x03, 0x91, 0x01, 0x05, 0x90, 0x00})
	f.Fuzz(func(t *testing.T, x []byte) {
		items, err := DecodeItems(x)
		if err != nil {
			if !errors.Is(err, ErrMalformed) || items != nil {
				t.Fatalf("DecodeItems(%x) = %v, %v", x, items, err)
			}
			return
		}
		if len(items) == 0 || len(items) > len(x)/2 {
			t.Fatalf("DecodeItems(%x): %d items from %d bytes", x, len(items), len(x))
		}
		for i, r := range items {
			if err := r.Validate(); err != nil {
				t.Fatalf("item %d fails Validate: %v", i, err)
			}
			if i < len(items)-1 && !plainItem(r) {
				t.Fatalf("item %d is not plain but not last: %+v", i, *r)
			}
		}
		y := EncodeItems(items)
		items2, err := DecodeItems(y)
		if err != nil {
			t.Fatalf("re-decode of %x: %v", y, err)
		}
		if len(items2) != len(items) {
			t.Fatalf("round trip: %d items, then %d", len(items), len(items2))
		}
		for i := range items {
			if !equalResp(items[i], items2[i]) {
				t.Fatalf("round trip changed item %d:\n%+v\n%+v", i, *items[i], *items2[i])
			}
		}
		if z := EncodeItems(items2); !bytes.Equal(y, z) {
			t.Fatalf("encoding is not stable:\n%x\n%x", y, z)
		}
		// Canonical items re-encode to the input.
		canonical := true
		r := reader{b: x}
		for !r.eof() {
			start := r.off
			if _, _, _, err := r.next(0); err != nil {
				t.Fatalf("decoded input does not split: %v", err)
			}
			canonical = canonical && canonicalOrder(x[start:r.off], responseOrder)
		}
		if canonical && !bytes.Equal(x, y) {
			t.Fatalf("canonical input re-encodes differently:\n in %x\nout %x", x, y)
		}
	})
}
