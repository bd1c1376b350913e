package wire

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
)

func TestRequestFields(t *testing.T) {
	t.Parallel()
	long := bytes.Repeat([]byte{'x'}, 300)
	tests := []struct {
		name string
		in   Request
		want string // hex of the whole encoding
	}{
		{"empty", Request{}, "80 00"},
		{"payload", Request{Payload: str("hi")}, "80 04 81 02 6869"},
		{"payload 300 bytes", Request{Payload: long}, "80 fd0130 81 fd012c" + strings.Repeat("78", 300)},
		{"content type", Request{ContentType: "raw"}, "80 05 82 03 726177"},
		{"request id", Request{RequestID: rid()}, "80 12 83 10 000102030405060708090a0b0c0d0e0f"},
		{"timeout 1ms", Request{Timeout: time.Millisecond}, "80 03 84 01 01"},
		{"timeout rounds up", Request{Timeout: 1500 * time.Microsecond}, "80 03 84 01 02"},
		{"timeout 2 bytes", Request{Timeout: 2500 * time.Millisecond}, "80 04 84 02 09c4"},
		{"timeout 4 bytes", Request{Timeout: 100 * time.Second}, "80 06 84 04 000186a0"},
		{"timeout 8 bytes", Request{Timeout: 5000 * time.Hour}, "80 0a 84 08 " + hexMS(5000*time.Hour)},
		{"zero timeout omitted", Request{Timeout: 0}, "80 00"},
		{"negative timeout omitted", Request{Timeout: -time.Second}, "80 00"},
		{"trace parent", Request{TraceParent: "00-ab"}, "80 07 85 05 30302d6162"},
		{"trace state", Request{TraceState: "k=v"}, "80 05 8a 03 6b3d76"},
		{"metadata", Request{Metadata: []MD{{"a", str("b")}}}, "80 08 86 06 87 01 61 88 01 62"},
		{"metadata empty value", Request{Metadata: []MD{{"a", nil}}}, "80 07 86 05 87 01 61 88 00"},
		{"metadata repeated key keeps order", Request{Metadata: []MD{{"a", str("2")}, {"a", str("1")}}},
			"80 10 86 06 8701 61 8801 32 86 06 8701 61 8801 31"},
		{"payload name", Request{PayloadName: name(t, "/a/b")}, "80 0a 89 08 07 06 0801 61 0801 62"},
		{"upstream", Request{Upstream: name(t, "/u/s")}, "80 0a 8d 08 07 06 0801 75 0801 73"},
		{"payload name then upstream", Request{PayloadName: name(t, "/a"), Upstream: name(t, "/u")},
			"80 0e 89 05 07 03 0801 61 8d 05 07 03 0801 75"},
		{"all, in canonical order", Request{
			Payload: str("p"), ContentType: "json", RequestID: rid(), Timeout: time.Second,
			TraceParent: "tp", TraceState: "ts", Metadata: []MD{{"k", str("v")}},
		}, "80 2f 8101 70 8204 6a736f6e 8310 000102030405060708090a0b0c0d0e0f 8402 03e8 8502 7470 8a02 7473 8606 8701 6b 8801 76"},
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
			dec, err := DecodeRequest(got)
			if err != nil {
				t.Fatalf("DecodeRequest: %v", err)
			}
			wantDec := tc.in
			wantDec.Timeout = time.Duration(timeoutMS(tc.in.Timeout)) * time.Millisecond
			if !equalReq(dec, &wantDec) {
				t.Fatalf("DecodeRequest:\n got %+v\nwant %+v", *dec, wantDec)
			}
			if again := dec.Encode(); !bytes.Equal(again, got) {
				t.Fatalf("re-encode:\n got %x\nwant %x", again, got)
			}
		})
	}
}

// hexMS is the hex of a Timeout element's 8-byte value for d.
func hexMS(d time.Duration) string {
	ms := uint64(d / time.Millisecond)
	const digits = "0123456789abcdef"
	var out [16]byte
	for i := 15; i >= 0; i-- {
		out[i] = digits[ms&0xf]
		ms >>= 4
	}
	return string(out[:])
}

func TestRequestAnyOrder(t *testing.T) {
	t.Parallel()
	// Elements reversed, with unknown non-critical elements sprinkled in.
	in := tl(0x80, h(t, `
		fe00010000 00
		8a02 7473 8502 7470 8402 03e8 8c03 010203
		8606 8801 76 8701 6b
		8310 000102030405060708090a0b0c0d0e0f 8204 6a736f6e 20 00 8101 70`))
	got, err := DecodeRequest(in)
	if err != nil {
		t.Fatal(err)
	}
	want := &Request{Payload: str("p"), ContentType: "json", RequestID: rid(), Timeout: time.Second,
		TraceParent: "tp", TraceState: "ts", Metadata: []MD{{"k", str("v")}}}
	if !equalReq(got, want) {
		t.Fatalf("got %+v\nwant %+v", *got, *want)
	}
}

func TestDecodeRequestErrors(t *testing.T) {
	t.Parallel()
	req := func(hexInner string) []byte { return tl(0x80, h(t, hexInner)) }
	a := func(n int) string { return strings.Repeat("61", n) }
	tests := []struct {
		name    string
		in      []byte
		wantErr string // a substring of the error
	}{
		{"empty input", nil, "Request at offset 0: truncated var-number"},
		{"wrong outer type", h(t, "90 00"), "outer type is Response"},
		{"outer type 0x06", h(t, "06 00"), "outer type is type 0x6"},
		{"trailing garbage", h(t, "80 00 00"), "Request at offset 2: 1 trailing bytes"},
		{"two requests", h(t, "80 00 80 00"), "2 trailing bytes"},
		{"truncated length", h(t, "80 fd01"), "Request at offset 1: truncated var-number"},
		{"length beyond input", h(t, "80 05 81 01 61"), "Request at offset 0: length 5 exceeds the 3 bytes left"},
		{"inner length beyond value", req("81 05 61"), "Payload at offset 2: length 5 exceeds the 1 bytes left"},
		{"non-minimal outer length", h(t, "80 fd0000"), "Request at offset 1: non-minimal"},
		{"non-minimal inner type", req("fd0081 01 61"), "at offset 2: non-minimal var-number"},
		{"non-minimal 3-byte length", req("81 fd00fc" + a(252)), "Payload at offset 5: non-minimal var-number"},
		{"non-minimal 5-byte length", req("81 fe000000ff" + a(255)), "Payload at offset 5: non-minimal var-number"},
		{"non-minimal 9-byte length", req("81 ff00000000ffffffff"), "Payload at offset 3: non-minimal var-number"},
		{"huge length", h(t, "80 ffffffffffffffffff"), "length 18446744073709551615 exceeds"},
		{"huge inner length", req("81 ff7fffffffffffffff"), "Payload at offset 2: length 9223372036854775807 exceeds"},
		{"unknown odd type", req("8b 00"), "type 0x8b at offset 2: unknown critical"},
		{"unknown odd 3-byte type", req("fd0101 00"), "type 0x101 at offset 2: unknown critical"},
		{"unknown even type below 32", req("1e 00"), "type 0x1e at offset 2: unknown critical"},
		{"unknown odd type in metadata", req("86 08 8701 61 8801 62 8f00"), "type 0x8f at offset 10: unknown critical element in Metadata"},
		{"response-only odd type", req("91 01 05"), "Status at offset 2: unknown critical element in Request"},
		{"empty payload", req("81 00"), "Payload at offset 2: empty"},
		{"duplicate payload", req("8101 61 8101 62"), "Payload at offset 5: duplicate"},
		{"duplicate content type", req("8201 61 8201 62"), "ContentType at offset 5: duplicate"},
		{"duplicate request id", req("8310 000102030405060708090a0b0c0d0e0f 8310 000102030405060708090a0b0c0d0e0f"), "RequestId at offset 20: duplicate"},
		{"duplicate timeout", req("8401 01 8401 02"), "Timeout at offset 5: duplicate"},
		{"duplicate trace parent", req("8501 61 8501 62"), "TraceParent at offset 5: duplicate"},
		{"duplicate trace state", req("8a01 61 8a01 62"), "TraceState at offset 5: duplicate"},
		{"duplicate payload name", req("8906 0704 0802 6161 8906 0704 0802 6262"), "PayloadName at offset 10: duplicate"},
		{"duplicate upstream", req("8d06 0704 0802 6161 8d06 0704 0802 6262"), "Upstream at offset 10: duplicate"},
		{"upstream empty", req("8d 02 0700"), "Upstream at offset 2: empty Name"},
		{"upstream not a name", req("8d 04 0802 6161"), "Upstream at offset 4: holds type 0x8"},
		{"upstream short digest", req("8d 05 0703 0201 61"), "Name component at offset 6: digest of 1 bytes"},
		{"empty content type", req("82 00"), "ContentType at offset 2: empty"},
		{"content type too long", req("82 fd0100" + a(256)), "ContentType at offset 4: 256 bytes, limit 255"},
		{"content type bad utf8", req("82 01 ff"), "ContentType at offset 2: not valid UTF-8"},
		{"trace parent bad utf8", req("85 02 c328"), "TraceParent at offset 2: not valid UTF-8"},
		{"trace parent too long", req("85 fd0100" + a(256)), "TraceParent at offset 4: 256 bytes, limit 255"},
		{"trace state too long", req("8a fd0201" + a(513)), "TraceState at offset 4: 513 bytes, limit 512"},
		{"request id 15 bytes", req("83 0f 000102030405060708090a0b0c0d0e"), "RequestId at offset 2: 15 bytes, want 16"},
		{"request id 17 bytes", req("83 11 000102030405060708090a0b0c0d0e0f10"), "RequestId at offset 2: 17 bytes, want 16"},
		{"timeout zero", req("84 01 00"), "Timeout at offset 2: 0 ms outside"},
		{"timeout 3 bytes", req("84 03 010000"), "Timeout at offset 2: NonNegativeInteger length 3"},
		{"timeout empty", req("84 00"), "Timeout at offset 2: NonNegativeInteger length 0"},
		{"timeout non-minimal", req("84 02 0001"), "Timeout at offset 2: non-minimal NonNegativeInteger"},
		{"timeout overflows duration", req("84 08 ffffffffffffffff"), "Timeout at offset 2: 18446744073709551615 ms outside"},
		{"metadata without value", req("86 03 8701 61"), "Metadata at offset 2: each pair needs exactly one Key and one Value"},
		{"metadata without key", req("86 02 8800"), "Metadata at offset 2: each pair needs"},
		{"metadata empty", req("86 00"), "Metadata at offset 2: each pair needs"},
		{"metadata duplicate key", req("86 08 8701 61 8701 62 8800"), "Key at offset 7: duplicate"},
		{"metadata duplicate value", req("86 08 8701 61 8800 8801 62"), "Value at offset 9: duplicate"},
		{"metadata empty key", req("86 04 8700 8800"), "Key at offset 4: length 0"},
		{"metadata upper-case key", req("86 05 8701 41 8800"), "Key at offset 4: byte 0x41 at index 0"},
		{"metadata key with space", req("86 05 8701 20 8800"), "Key at offset 4: byte 0x20"},
		{"metadata key not ascii", req("86 06 8702 c3a9 8800"), "Key at offset 4: byte 0xc3"},
		{"metadata key too long", req("86 fd0107 87 fd0101" + a(257) + "8800"), "Key at offset 8: length 257"},
		{"metadata value too long", req("86 fd2008 8701 61 88 fd2001" + strings.Repeat("00", 8193)), "Value at offset 11: 8193 bytes, limit 8192"},
		{"metadata truncated inside", req("86 03 8705 61"), "Key at offset 4: length 5 exceeds the 1 bytes left"},
		{"65 metadata pairs", req(strings.Repeat("8605 8701 61 8800", 65)), "Metadata at offset 452: more than 64 pairs"},
		{"payload name and payload", req("8101 61 8906 0704 0802 6161"), "PayloadName at offset 2: present together with Payload"},
		{"payload name empty", req("89 02 0700"), "PayloadName at offset 2: empty Name"},
		{"payload name no name", req("89 00"), "PayloadName at offset 4: truncated var-number"},
		{"payload name not a name", req("89 04 0802 6161"), "PayloadName at offset 4: holds type 0x8"},
		{"payload name trailing bytes", req("89 05 0700 0801 61"), "PayloadName at offset 6: trailing bytes after the Name"},
		{"payload name component type 0", req("89 04 0702 0000"), "Name component at offset 6: type 0 outside"},
		{"payload name component type too big", req("89 0b 0709 fe00010000 03 616263"), "Name component at offset 6: type 65536 outside"},
		{"payload name short digest", req("89 05 0703 0101 61"), "Name component at offset 6: digest of 1 bytes"},
		{"payload name bad component length", req("89 04 0702 0805"), "Name component (type 8) at offset 6: length 5 exceeds"},
		{"payload name truncated component", req("89 03 0701 fd"), "Name component at offset 6: truncated var-number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := DecodeRequest(tc.in)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("DecodeRequest(%x) = %+v, %v; want ErrMalformed", tc.in, got, err)
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

func TestRequestLimits(t *testing.T) {
	t.Parallel()
	mdN := func(n int) []MD {
		md := make([]MD, n)
		for i := range md {
			md[i] = MD{Key: "k", Value: str("v")}
		}
		return md
	}
	tests := []struct {
		name    string
		in      Request
		wantErr bool
	}{
		{"64 metadata pairs", Request{Metadata: mdN(MaxMetadata)}, false},
		{"65 metadata pairs", Request{Metadata: mdN(MaxMetadata + 1)}, true},
		{"key 256 bytes", Request{Metadata: []MD{{strings.Repeat("k", MaxKeyLen), nil}}}, false},
		{"key 257 bytes", Request{Metadata: []MD{{strings.Repeat("k", MaxKeyLen+1), nil}}}, true},
		{"key alphabet", Request{Metadata: []MD{{"abc-xyz_0.9", nil}}}, false},
		{"value 8 KiB", Request{Metadata: []MD{{"k", make([]byte, MaxValueLen)}}}, false},
		{"value 8 KiB + 1", Request{Metadata: []MD{{"k", make([]byte, MaxValueLen+1)}}}, true},
		{"content type 255", Request{ContentType: strings.Repeat("c", MaxContentTypeLen)}, false},
		{"content type 256", Request{ContentType: strings.Repeat("c", MaxContentTypeLen+1)}, true},
		{"trace parent 256", Request{TraceParent: strings.Repeat("c", MaxTraceParentLen+1)}, true},
		{"trace state 512", Request{TraceState: strings.Repeat("c", MaxTraceStateLen)}, false},
		{"trace state 513", Request{TraceState: strings.Repeat("c", MaxTraceStateLen+1)}, true},
		{"bad utf8 content type", Request{ContentType: "\xff"}, true},
		{"request id 16", Request{RequestID: rid()}, false},
		{"request id 8", Request{RequestID: rid()[:8]}, true},
		{"payload and payload name", Request{Payload: str("x"), PayloadName: name(t, "/a")}, true},
		{"payload name component type 0", Request{PayloadName: enc.Name{{Typ: 0, Val: str("a")}}}, true},
		{"payload name long component", Request{PayloadName: enc.Name{{Typ: 8, Val: make([]byte, 70000)}}}, false},
		{"upstream", Request{Upstream: name(t, "/alice/_up/0123")}, false},
		{"upstream with payload name", Request{PayloadName: name(t, "/a"), Upstream: name(t, "/b")}, false},
		{"upstream component type 0", Request{Upstream: enc.Name{{Typ: 0, Val: str("a")}}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			verr := tc.in.Validate()
			_, derr := DecodeRequest(tc.in.Encode())
			if (verr != nil) != tc.wantErr || (derr != nil) != tc.wantErr {
				t.Fatalf("Validate = %v, DecodeRequest(Encode) = %v; wantErr %v", verr, derr, tc.wantErr)
			}
			if tc.wantErr && (!errors.Is(verr, ErrMalformed) || !errors.Is(derr, ErrMalformed)) {
				t.Fatalf("errors do not wrap ErrMalformed: %v / %v", verr, derr)
			}
		})
	}
	if err := (&Request{Timeout: -1}).Validate(); !errors.Is(err, ErrMalformed) {
		t.Errorf("negative Timeout: Validate = %v, want ErrMalformed", err)
	}
}

// TestRequestOldEncodings: requests encoded before Upstream existed decode
// exactly as before (the new element is only ever added, never required).
func TestRequestOldEncodings(t *testing.T) {
	t.Parallel()
	old := typicalRequest(t)
	got, err := DecodeRequest(old.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if got.Upstream != nil || !equalReq(got, old) {
		t.Fatalf("got %+v\nwant %+v", *got, *old)
	}
	// An Upstream is one more element at the end: the rest is unchanged.
	withUp := *old
	withUp.Upstream = name(t, "/alice/_up/1")
	a, b := old.Encode(), withUp.Encode()
	if !bytes.Equal(a[2:], b[2:len(a)]) {
		t.Fatalf("Upstream changed the other elements:\n%x\n%x", a, b)
	}
}

func TestRequestTruncated(t *testing.T) {
	t.Parallel()
	full := typicalRequest(t).Encode()
	full = append(full[:0:0], full...)
	for i := range full {
		if r, err := DecodeRequest(full[:i]); !errors.Is(err, ErrMalformed) {
			t.Fatalf("DecodeRequest(first %d of %d bytes) = %+v, %v; want ErrMalformed", i, len(full), r, err)
		}
	}
}

func TestRequestNoAlias(t *testing.T) {
	t.Parallel()
	in := typicalRequest(t).Encode()
	got, err := DecodeRequest(in)
	if err != nil {
		t.Fatal(err)
	}
	want := typicalRequest(t)
	for i := range in {
		in[i] = 0xee
	}
	if !equalReq(got, want) {
		t.Fatalf("decoded request changed with its input:\n got %+v\nwant %+v", *got, *want)
	}
}

func TestRequestDeterministic(t *testing.T) {
	t.Parallel()
	a, b := typicalRequest(t).Encode(), typicalRequest(t).Encode()
	if !bytes.Equal(a, b) {
		t.Fatalf("two encodings differ:\n%x\n%x", a, b)
	}
}

func TestErrorNamesFieldAndOffset(t *testing.T) {
	t.Parallel()
	_, err := DecodeRequest(h(t, "80 06 8401 01 8401 02"))
	if err == nil || !strings.Contains(err.Error(), "Timeout at offset 5: duplicate") {
		t.Fatalf("err = %v, want the field and offset", err)
	}
}

// TestNameLongComponent guards the workaround for ndnd v1.5.3 encoding a
// component's TLV-LENGTH as a NonNegativeInteger (std/encoding/component.go:108).
func TestNameLongComponent(t *testing.T) {
	t.Parallel()
	val := bytes.Repeat([]byte{'z'}, 300)
	r := Request{PayloadName: enc.Name{{Typ: enc.TypeGenericNameComponent, Val: val}}}
	got := r.Encode()
	// 89 L (07 L (08 fd012c <300 bytes>))
	want := append(h(t, "80 fd0138 89 fd0134 07 fd0130 08 fd012c"), val...)
	if !bytes.Equal(got, want) {
		t.Fatalf("Encode:\n got %x\nwant %x", got[:16], want[:16])
	}
	dec, err := DecodeRequest(got)
	if err != nil {
		t.Fatal(err)
	}
	if !equalReq(dec, &r) {
		t.Fatal("long component did not round-trip")
	}
}

func typicalRequest(t testing.TB) *Request {
	return &Request{
		Payload:     str(`{"key":"user/42","fields":["name","email"]}`),
		ContentType: "json",
		RequestID:   rid(),
		Timeout:     2 * time.Second,
		Metadata:    []MD{{Key: "tenant", Value: str("acme")}},
	}
}

func BenchmarkRequestEncode(b *testing.B) {
	r := typicalRequest(b)
	b.SetBytes(int64(r.EncodedLen()))
	b.ReportAllocs()
	for b.Loop() {
		_ = r.Encode()
	}
}

func BenchmarkRequestDecode(b *testing.B) {
	in := typicalRequest(b).Encode()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeRequest(in); err != nil {
			b.Fatal(err)
		}
	}
}
