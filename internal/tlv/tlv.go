package tlv

import (
	"errors"
	"fmt"
)

// VarNumLen returns the length of v's shortest var-number encoding: 1, 3, 5
// or 9 bytes.
func VarNumLen(v uint64) int {
	switch {
	case v < 253:
		return 1
	case v <= 0xFFFF:
		return 3
	case v <= 0xFFFFFFFF:
		return 5
	default:
		return 9
	}
}

// AppendVarNum appends v to dst as a TLV-TYPE or TLV-LENGTH var-number in
// its shortest form. The shortest form preserves numeric order under
// bytes.Compare and is prefix-free (store keys rely on both).
func AppendVarNum(dst []byte, v uint64) []byte {
	switch VarNumLen(v) {
	case 1:
		return append(dst, byte(v))
	case 3:
		return appendUint(append(dst, 253), v, 2)
	case 5:
		return appendUint(append(dst, 254), v, 4)
	default:
		return appendUint(append(dst, 255), v, 8)
	}
}

// appendUint appends the n low-order bytes of v to dst, big-endian.
func appendUint(dst []byte, v uint64, n int) []byte {
	for i := n - 1; i >= 0; i-- {
		dst = append(dst, byte(v>>(8*i)))
	}
	return dst
}

// readUint decodes b (at most 8 bytes) as a big-endian number.
func readUint(b []byte) uint64 {
	var v uint64
	for _, x := range b {
		v = v<<8 | uint64(x)
	}
	return v
}

var (
	errShortVarNum  = errors.New("truncated var-number")
	errLongerVarNum = errors.New("var-number not in shortest form")
)

// readVarNum reads the var-number at the start of b and returns it and its
// length. With canonical set, only the shortest form is accepted.
func readVarNum(b []byte, canonical bool) (v uint64, n int, err error) {
	if len(b) == 0 {
		return 0, 0, errShortVarNum
	}
	switch b[0] {
	case 253:
		n = 3
	case 254:
		n = 5
	case 255:
		n = 9
	default:
		return uint64(b[0]), 1, nil
	}
	if len(b) < n {
		return 0, 0, errShortVarNum
	}
	v = readUint(b[1:n])
	if canonical && VarNumLen(v) != n {
		return 0, 0, errLongerVarNum
	}
	return v, n, nil
}

// AppendTLV appends a TLV element of type typ with value val to dst.
func AppendTLV(dst []byte, typ uint64, val []byte) []byte {
	dst = AppendVarNum(dst, typ)
	dst = AppendVarNum(dst, uint64(len(val)))
	return append(dst, val...)
}

// AppendNat appends a TLV element of type typ whose value is v as a
// NonNegativeInteger: 1, 2, 4 or 8 bytes, the shortest that holds v.
func AppendNat(dst []byte, typ uint64, v uint64) []byte {
	n := 8
	switch {
	case v <= 0xFF:
		n = 1
	case v <= 0xFFFF:
		n = 2
	case v <= 0xFFFFFFFF:
		n = 4
	}
	return appendUint(append(AppendVarNum(dst, typ), byte(n)), v, n)
}

// ReadNat decodes a NonNegativeInteger: val must be 1, 2, 4 or 8 bytes
// (packet format v0.3: "TLV-LENGTH of the TLV element MUST be either 1, 2,
// 4, or 8"). Leading zero bytes are accepted.
func ReadNat(val []byte) (uint64, error) {
	switch len(val) {
	case 1, 2, 4, 8:
		return readUint(val), nil
	}
	return 0, fmt.Errorf("NonNegativeInteger of %d bytes, want 1, 2, 4 or 8", len(val))
}

// Reader walks a sequence of TLV elements. The zero Reader has nothing to
// read. A Reader is not safe for concurrent use.
type Reader struct {
	b         []byte
	canonical bool
}

// NewReader returns a Reader over b that accepts var-numbers in any of the
// spec's forms, as NDN receivers do. Use it for network input.
func NewReader(b []byte) Reader { return Reader{b: b} }

// NewCanonicalReader returns a Reader over b that also requires every
// TLV-TYPE and TLV-LENGTH in its shortest form, so that each sequence of
// elements has exactly one encoding (store keys need this).
func NewCanonicalReader(b []byte) Reader { return Reader{b: b, canonical: true} }

// More reports whether any bytes are left.
func (r *Reader) More() bool { return len(r.b) > 0 }

// Next returns the next element's type and value. The value aliases the
// input; its capacity ends where it does, so appending to it never
// overwrites what follows. Next fails, and leaves the Reader where it was,
// on a truncated TLV-TYPE or TLV-LENGTH, a TLV-TYPE of 0 (invalid in
// packet format v0.3), a TLV-LENGTH beyond the bytes left, or (canonical
// Reader) a var-number not in its shortest form.
func (r *Reader) Next() (typ uint64, val []byte, err error) {
	t, n, err := readVarNum(r.b, r.canonical)
	if err != nil {
		return 0, nil, fmt.Errorf("TLV-TYPE: %w", err)
	}
	if t == 0 {
		return 0, nil, errors.New("TLV-TYPE 0")
	}
	l, m, err := readVarNum(r.b[n:], r.canonical)
	if err != nil {
		return 0, nil, fmt.Errorf("TLV-LENGTH of type %#x: %w", t, err)
	}
	rest := r.b[n+m:]
	if l > uint64(len(rest)) {
		return 0, nil, fmt.Errorf("TLV of type %#x claims %d bytes, %d left", t, l, len(rest))
	}
	r.b = rest[l:]
	return t, rest[:l:l], nil
}

// Single decodes b as exactly one TLV element (as NewReader does) and
// returns its type and value, which aliases b. Bytes after the element are
// an error.
func Single(b []byte) (typ uint64, val []byte, err error) {
	r := NewReader(b)
	if typ, val, err = r.Next(); err != nil {
		return 0, nil, err
	}
	if r.More() {
		return 0, nil, fmt.Errorf("%d bytes after the TLV of type %#x", len(r.b), typ)
	}
	return typ, val, nil
}
