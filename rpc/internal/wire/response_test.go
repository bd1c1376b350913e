package wire

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"
)

func TestResponseFields(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   Response
		want string
	}{
		{"empty is inline OK", Response{}, "90 00"},
		{"status 1 byte", Response{Status: 5}, "90 03 91 01 05"},
		{"status 16", Response{Status: 16}, "90 03 91 01 10"},
		{"status beyond codes passes through", Response{Status: 300}, "90 04 91 02 012c"},
		{"status max uint32", Response{Status: 0xffffffff}, "90 06 91 04 ffffffff"},
		{"message", Response{Status: 5, Message: "no"}, "90 07 91 01 05 92 02 6e6f"},
		{"payload", Response{Payload: str("{}")}, "90 04 81 02 7b7d"},
		{"content type", Response{ContentType: "proto"}, "90 07 82 05 70726f746f"},
		{"metadata", Response{Metadata: []MD{{"x-a", str("1")}}}, "90 0a 86 08 8703 782d61 8801 31"},
		{"details", Response{Status: 3, Details: []byte{1, 2}}, "90 07 91 01 03 94 02 0102"},
		{"object", Response{Kind: KindObject, Continuation: name(t, "/o")}, "90 0a 93 05 0703 0801 6f 95 01 01"},
		{"stream", Response{Kind: KindStream, Continuation: name(t, "/s")}, "90 0a 93 05 0703 0801 73 95 01 02"},
		{"operation", Response{Kind: KindOperation, Continuation: name(t, "/p")}, "90 0a 93 05 0703 0801 70 95 01 03"},
		{"future kind without continuation", Response{Kind: 9}, "90 03 95 01 09"},
		{"all, in canonical order", Response{
			Status: 2, Message: "m", Payload: str("p"), ContentType: "raw",
			Metadata: []MD{{"k", nil}}, Continuation: name(t, "/c"), Details: str("d"), Kind: KindObject,
		}, "90 22 9101 02 9201 6d 8101 70 8203 726177 8605 8701 6b 8800 9305 0703 0801 63 9401 64 9501 01"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want := h(t, tc.want)
			got := tc.in.Encode()
			if !bytes.Equal(got, want) {
				t.Fatalf("Encode:\n got %x\nwant %x", got, want)
			}
			if n := tc.in.EncodedLen(); n != len(got) {
				t.Fatalf("EncodedLen = %d, len(Encode()) = %d", n, len(got))
			}
			if err := tc.in.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			dec, err := DecodeResponse(got)
			if err != nil {
				t.Fatalf("DecodeResponse: %v", err)
			}
			if !equalResp(dec, &tc.in) {
				t.Fatalf("DecodeResponse:\n got %+v\nwant %+v", *dec, tc.in)
			}
			if again := dec.Encode(); !bytes.Equal(again, got) {
				t.Fatalf("re-encode:\n got %x\nwant %x", again, got)
			}
		})
	}
}

func TestResponseAnyOrder(t *testing.T) {
	t.Parallel()
	in := tl(0x90, h(t, "9501 01 9401 64 9305 0703 0801 63 a0 02 ffff 8605 8800 8701 6b 8203 726177 8101 70 9201 6d 9101 02"))
	got, err := DecodeResponse(in)
	if err != nil {
		t.Fatal(err)
	}
	want := &Response{Status: 2, Message: "m", Payload: str("p"), ContentType: "raw",
		Metadata: []MD{{"k", nil}}, Continuation: name(t, "/c"), Details: str("d"), Kind: KindObject}
	if !equalResp(got, want) {
		t.Fatalf("got %+v\nwant %+v", *got, *want)
	}
}

func TestDecodeResponseErrors(t *testing.T) {
	t.Parallel()
	resp := func(hexInner string) []byte { return tl(0x90, h(t, hexInner)) }
	tests := []struct {
		name    string
		in      []byte
		wantErr string
	}{
		{"empty input", nil, "Response at offset 0: truncated var-number"},
		{"request instead", h(t, "80 00"), "outer type is Request, want Response"},
		{"trailing garbage", h(t, "90 00 ff"), "Response at offset 2: 1 trailing bytes"},
		{"status zero", resp("91 01 00"), "Status at offset 2: 0 outside"},
		{"status beyond uint32", resp("91 08 0000000100000000"), "Status at offset 2: 4294967296 outside"},
		{"status non-minimal", resp("91 02 0005"), "Status at offset 2: non-minimal"},
		{"status 3 bytes", resp("91 03 000100"), "Status at offset 2: NonNegativeInteger length 3"},
		{"duplicate status", resp("9101 05 9101 06"), "Status at offset 5: duplicate"},
		{"duplicate message", resp("9201 61 9201 62"), "Message at offset 5: duplicate"},
		{"duplicate payload", resp("8101 61 8101 62"), "Payload at offset 5: duplicate"},
		{"duplicate content type", resp("8201 61 8201 62"), "ContentType at offset 5: duplicate"},
		{"duplicate continuation", resp("9305 0703 0801 61 9305 0703 0801 62 9501 01"), "Continuation at offset 9: duplicate"},
		{"duplicate details", resp("9401 61 9401 62"), "Details at offset 5: duplicate"},
		{"duplicate kind", resp("9501 01 9501 01"), "Kind at offset 5: duplicate"},
		{"empty message", resp("92 00"), "Message at offset 2: empty"},
		{"message bad utf8", resp("92 02 c328"), "Message at offset 2: not valid UTF-8"},
		{"empty payload", resp("81 00"), "Payload at offset 2: empty"},
		{"empty details", resp("94 00"), "Details at offset 2: empty"},
		{"explicit inline kind", resp("95 01 00"), "Kind at offset 2: explicit inline"},
		{"kind non-minimal", resp("95 02 0001"), "Kind at offset 2: non-minimal"},
		{"object without continuation", resp("95 01 01"), "Continuation: missing for kind object"},
		{"stream without continuation", resp("95 01 02"), "Continuation: missing for kind stream"},
		{"operation without continuation", resp("95 01 03"), "Continuation: missing for kind operation"},
		{"inline with continuation", resp("93 05 0703 0801 61"), "Continuation: present for kind inline"},
		{"continuation empty name", resp("93 02 0700 9501 01"), "Continuation at offset 2: empty Name"},
		{"continuation not a name", resp("93 03 0801 61 9501 01"), "Continuation at offset 4: holds type 0x8"},
		{"request-only odd type", resp("83 10 000102030405060708090a0b0c0d0e0f"), "RequestId at offset 2: unknown critical element in Response"},
		{"unknown odd type", resp("97 00"), "type 0x97 at offset 2: unknown critical"},
		{"metadata bad key", resp("86 05 8701 2f 8800"), "Key at offset 4: byte 0x2f"},
		{"65 metadata pairs", resp(strings.Repeat("8605 8701 61 8800", 65)), "Metadata at offset 452: more than 64 pairs"},
		{"truncated", h(t, "90 05 91 01"), "Response at offset 0: length 5 exceeds the 2 bytes left"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := DecodeResponse(tc.in)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("DecodeResponse(%x) = %+v, %v; want ErrMalformed", tc.in, got, err)
			}
			if got != nil {
				t.Fatalf("non-nil result with error")
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %q does not contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestResponseValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      Response
		wantErr bool
	}{
		{"zero", Response{}, false},
		{"bad utf8 message", Response{Message: "\xc3"}, true},
		{"long message", Response{Message: strings.Repeat("m", 100000)}, false},
		{"content type 256", Response{ContentType: strings.Repeat("c", 256)}, true},
		{"upper-case key", Response{Metadata: []MD{{"Key", nil}}}, true},
		{"object without continuation", Response{Kind: KindObject}, true},
		{"inline with continuation", Response{Continuation: name(t, "/a")}, true},
		{"bad continuation component", Response{Kind: KindStream, Continuation: enc.Name{{Typ: 2, Val: str("short")}}}, true},
		{"future kind with continuation", Response{Kind: 7, Continuation: name(t, "/a")}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			verr := tc.in.Validate()
			_, derr := DecodeResponse(tc.in.Encode())
			if (verr != nil) != tc.wantErr || (derr != nil) != tc.wantErr {
				t.Fatalf("Validate = %v, DecodeResponse(Encode) = %v; wantErr %v", verr, derr, tc.wantErr)
			}
			if tc.wantErr && (!errors.Is(verr, ErrMalformed) || !errors.Is(derr, ErrMalformed)) {
				t.Fatalf("errors do not wrap ErrMalformed: %v / %v", verr, derr)
			}
		})
	}
}

func TestResponseTruncated(t *testing.T) {
	t.Parallel()
	full := (&Response{Status: 5, Message: "not found", Payload: str("{}"), ContentType: "json",
		Metadata: []MD{{"a", str("b")}}, Continuation: name(t, "/x/y"), Details: str("d"), Kind: KindOperation}).Encode()
	for i := range full {
		if r, err := DecodeResponse(full[:i]); !errors.Is(err, ErrMalformed) {
			t.Fatalf("DecodeResponse(first %d of %d bytes) = %+v, %v; want ErrMalformed", i, len(full), r, err)
		}
	}
}

func TestKindString(t *testing.T) {
	t.Parallel()
	for k, want := range map[Kind]string{KindInline: "inline", KindObject: "object", KindStream: "stream",
		KindOperation: "operation", 42: "Kind(42)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", uint64(k), got, want)
		}
	}
}
