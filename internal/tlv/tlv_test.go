package tlv

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	enc "github.com/named-data/ndnd/std/encoding"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVarNum(t *testing.T) {
	tests := []struct {
		v    uint64
		want string
	}{
		{0, "00"},
		{252, "fc"},
		{253, "fd00fd"},
		{0xFFFF, "fdffff"},
		{0x10000, "fe00010000"},
		{0xFFFFFFFF, "feffffffff"},
		{0x100000000, "ff0000000100000000"},
		{1<<64 - 1, "ffffffffffffffffff"},
	}
	for _, tt := range tests {
		b := AppendVarNum([]byte{0xAA}, tt.v)[1:]
		if got := hex.EncodeToString(b); got != tt.want {
			t.Errorf("AppendVarNum(%d) = %s, want %s", tt.v, got, tt.want)
		}
		if VarNumLen(tt.v) != len(b) {
			t.Errorf("VarNumLen(%d) = %d, want %d", tt.v, VarNumLen(tt.v), len(b))
		}
		for _, canonical := range []bool{false, true} {
			v, n, err := readVarNum(append(b, 0x42), canonical)
			if err != nil || v != tt.v || n != len(b) {
				t.Errorf("readVarNum(%s, %v) = %d, %d, %v", tt.want, canonical, v, n, err)
			}
			if _, _, err := readVarNum(b[:len(b)-1], canonical); err == nil {
				t.Errorf("readVarNum of truncated %s: no error", tt.want)
			}
		}
	}
}

func TestVarNumForms(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
	}{
		{"fd0008", 8},
		{"fd00fc", 252},
		{"fe0000ffff", 0xFFFF},
		{"ff00000000ffffffff", 0xFFFFFFFF},
		{"ff0000000000000000", 0},
	}
	for _, tt := range tests {
		b := unhex(t, tt.in)
		if v, n, err := readVarNum(b, false); err != nil || v != tt.want || n != len(b) {
			t.Errorf("lenient %s = %d, %d, %v; want %d", tt.in, v, n, err, tt.want)
		}
		if _, _, err := readVarNum(b, true); err == nil {
			t.Errorf("canonical %s: no error for a longer form", tt.in)
		}
	}
}

func TestNat(t *testing.T) {
	for _, c := range []struct {
		v    uint64
		size int
	}{{0, 1}, {0xFF, 1}, {0x100, 2}, {0xFFFF, 2}, {0x10000, 4}, {0xFFFFFFFF, 4}, {0x100000000, 8}, {1<<64 - 1, 8}} {
		b := AppendNat(nil, 0xd6, c.v)
		typ, val, err := Single(b)
		if err != nil || typ != 0xd6 || len(val) != c.size {
			t.Fatalf("Single(AppendNat(%d)) = %#x, %x, %v; want a %d-byte value", c.v, typ, val, err, c.size)
		}
		if got, err := ReadNat(val); err != nil || got != c.v {
			t.Errorf("ReadNat(%x) = %d, %v; want %d", val, got, err, c.v)
		}
	}
	tests := []struct {
		in      string
		want    uint64
		wantErr bool
	}{
		{"", 0, true},
		{"000001", 0, true},
		{"0000000001", 0, true},
		{"000000000000000001", 0, true},
		{"0001", 1, false}, // leading zeros are allowed
		{"00000001", 1, false},
	}
	for _, tt := range tests {
		got, err := ReadNat(unhex(t, tt.in))
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ReadNat(%s) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestReader(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		canonical bool
		want      []string // "type:value" of each element before the error or end
		wantErr   string
	}{
		{"empty", "", false, nil, ""},
		{"two elements", "0801 61 fd01 2d00", false, []string{"8:61", "12d:"}, ""},
		{"longer forms, lenient", "fd0008 fe00000001 61", false, []string{"8:61"}, ""},
		{"longer type, canonical", "fd0008 01 61", true, nil, "TLV-TYPE: var-number not in shortest form"},
		{"longer length, canonical", "08 fd0001 61", true, nil, "TLV-LENGTH of type 0x8: var-number not in shortest form"},
		{"type zero", "0801 61 0000", false, []string{"8:61"}, "TLV-TYPE 0"},
		{"truncated type", "0800 fd01", false, []string{"8:"}, "TLV-TYPE: truncated var-number"},
		{"missing length", "08", false, nil, "TLV-LENGTH of type 0x8: truncated var-number"},
		{"length beyond input", "0803 6161", false, nil, "TLV of type 0x8 claims 3 bytes, 2 left"},
		{"12 GiB name", "0507 07fe 3130 3030 30", false, []string{"5:07fe3130303030"}, ""}, // whole at this level
		{"huge length", "08ff ffffffffffffffff", false, nil, "TLV of type 0x8 claims 18446744073709551615 bytes, 0 left"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := unhex(t, tt.in)
			r := NewReader(in)
			if tt.canonical {
				r = NewCanonicalReader(in)
			}
			var got []string
			var err error
			for r.More() {
				var typ uint64
				var val []byte
				if typ, val, err = r.Next(); err != nil {
					break
				}
				if cap(val) != len(val) {
					t.Errorf("value of type %#x has spare capacity", typ)
				}
				got = append(got, fmt.Sprintf("%x:%x", typ, val))
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("elements %v, want %v", got, tt.want)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("error %v", err)
			case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
				t.Errorf("error %v, want %q", err, tt.wantErr)
			case err != nil && !r.More():
				t.Errorf("a failed Next consumed the input")
			}
		})
	}
}

func TestSingle(t *testing.T) {
	tests := []struct {
		in      string
		typ     uint64
		val     string
		wantErr string
	}{
		{"0600", 6, "", ""},
		{"0602 0700", 6, "0700", ""},
		{"0600 00", 0, "", "1 bytes after the TLV of type 0x6"},
		{"0601", 0, "", "TLV of type 0x6 claims 1 bytes, 0 left"},
		{"", 0, "", "TLV-TYPE: truncated var-number"},
	}
	for _, tt := range tests {
		typ, val, err := Single(unhex(t, tt.in))
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("Single(%s) error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || typ != tt.typ || hex.EncodeToString(val) != tt.val {
			t.Errorf("Single(%s) = %#x, %x, %v", tt.in, typ, val, err)
		}
	}
}

func gc(s string) enc.Component { return enc.NewGenericComponent(s) }

func TestNameEncoding(t *testing.T) {
	long := enc.NewGenericBytesComponent(bytes.Repeat([]byte{'a'}, 300))
	tests := []struct {
		name   string
		in     enc.Name
		prefix string // of AppendName's output
	}{
		{"empty", enc.Name{}, "0700"},
		{"two components", enc.Name{gc("a"), enc.NewVersionComponent(7)}, "0706 080161 360107"},
		{"300-byte component", enc.Name{long, gc("b")}, "07fd0133 08fd012c 6161"},
		{"large type", enc.Name{{Typ: 0xFFFF, Val: []byte("x")}}, "0705 fdffff0178"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := AppendName([]byte{0xAA}, tt.in)[1:]
			if want := unhex(t, tt.prefix); !bytes.HasPrefix(b, want) {
				t.Fatalf("AppendName = %x, want prefix %x", b, want)
			}
			typ, val, err := Single(b)
			if err != nil || typ != TypeName || len(val) != NameValueLen(tt.in) {
				t.Fatalf("Single = %#x, %d bytes, %v; want Name of %d", typ, len(val), err, NameValueLen(tt.in))
			}
			if !bytes.Equal(val, AppendNameValue(nil, tt.in)) {
				t.Fatalf("AppendNameValue differs from the Name's value")
			}
			got, err := DecodeName(val)
			if err != nil || got == nil || !got.Equal(tt.in) {
				t.Fatalf("DecodeName = %v, %v; want %v", got, err, tt.in)
			}
			if NdndEncodable(tt.in) {
				// ndnd agrees with us wherever its encoding is right.
				if nd := tt.in.Bytes(); !bytes.Equal(nd, b) {
					t.Errorf("ndnd encodes %x, we %x", nd, b)
				}
			}
		})
	}
}

func TestDecodeNameCopies(t *testing.T) {
	val := AppendNameValue(nil, enc.Name{gc("ab"), gc(""), gc("cd")})
	n, err := DecodeName(val)
	if err != nil {
		t.Fatal(err)
	}
	for i := range val {
		val[i] = 0
	}
	if n.String() != "/ab//cd" {
		t.Fatalf("decoded name changed with its input: %s", n)
	}
	if n[1].Val == nil || cap(n[0].Val) != 2 {
		t.Fatalf("empty component %v, first component capacity %d", n[1].Val, cap(n[0].Val))
	}
}

func TestNameErrors(t *testing.T) {
	long := AppendTLV(nil, 8, make([]byte, 253))
	tests := []struct {
		name    string
		in      []byte
		max     int
		wantErr string
	}{
		{"type zero", unhex(t, "080161 0000"), -1, "name component 1: TLV-TYPE 0"},
		{"type above 65535", unhex(t, "fe00010000 00"), -1, "name component 0: type 0x10000 out of range 1-65535"},
		{"truncated", unhex(t, "0802 61"), -1, "name component 0: TLV of type 0x8 claims 2 bytes, 1 left"},
		{"12 GiB component", unhex(t, "07fe 3130 3030 30"), -1, "name component 0: TLV of type 0x7 claims 825241648 bytes, 1 left"},
		{"253 bytes, limit 252", long, NdndMaxComponentLen, "name component 0: 253 bytes, longer than 252"},
		{"253 bytes, no limit", long, -1, ""},
		{"252 bytes, limit 252", AppendTLV(nil, 8, make([]byte, 252)), NdndMaxComponentLen, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckName(tt.in, tt.max)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckName: %v", err)
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("CheckName error %v, want %q", err, tt.wantErr)
			}
			if tt.max < 0 {
				if n, err := DecodeName(tt.in); err == nil || n != nil {
					t.Fatalf("DecodeName = %v, %v; want an error", n, err)
				}
			}
		})
	}
}

func TestNdndEncodable(t *testing.T) {
	ok := enc.Name{enc.NewGenericBytesComponent(make([]byte, 252))}
	bad := enc.Name{gc("a"), enc.NewGenericBytesComponent(make([]byte, 253))}
	tests := []struct {
		names []enc.Name
		want  bool
	}{
		{nil, true},
		{[]enc.Name{{}, ok}, true},
		{[]enc.Name{ok, bad}, false},
		{[]enc.Name{bad[1:]}, false},
		{[]enc.Name{bad[:1]}, true},
	}
	for i, tt := range tests {
		if got := NdndEncodable(tt.names...); got != tt.want {
			t.Errorf("case %d: NdndEncodable = %v, want %v", i, got, tt.want)
		}
	}
}
