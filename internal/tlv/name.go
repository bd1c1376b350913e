package tlv

import (
	"fmt"

	enc "github.com/named-data/ndnd/std/encoding"
)

// TypeName is the TLV-TYPE of a Name.
const TypeName = 0x07

// maxComponentType is the largest name component TLV-TYPE of packet format
// v0.3 (component types are 1-65535).
const maxComponentType = 0xFFFF

// NdndMaxComponentLen is the longest name component that ndnd v1.5.3
// encodes correctly: from 253 bytes on it writes the component's
// TLV-LENGTH as a NonNegativeInteger instead of a var-number
// (std/encoding/component.go:108-116), so a name with a longer component
// cannot go through ndnd's encoder (Interests, Data, its generated TLV
// structs). This package's encoders have no such limit.
const NdndMaxComponentLen = 252

// NdndEncodable reports whether ndnd v1.5.3 encodes every component of
// names correctly: none is longer than NdndMaxComponentLen. Empty names
// qualify.
func NdndEncodable(names ...enc.Name) bool {
	for _, n := range names {
		for _, c := range n {
			if len(c.Val) > NdndMaxComponentLen {
				return false
			}
		}
	}
	return true
}

// NameValueLen returns the length of the value of n's Name TLV: what
// AppendNameValue appends.
func NameValueLen(n enc.Name) int {
	l := 0
	for _, c := range n {
		l += VarNumLen(uint64(c.Typ)) + VarNumLen(uint64(len(c.Val))) + len(c.Val)
	}
	return l
}

// AppendNameValue appends the value of n's Name TLV to dst: each component
// as a TLV with TLV-TYPE and TLV-LENGTH as shortest var-numbers (correct for
// every length, unlike ndnd v1.5.3's Component.Bytes).
func AppendNameValue(dst []byte, n enc.Name) []byte {
	for _, c := range n {
		dst = AppendTLV(dst, uint64(c.Typ), c.Val)
	}
	return dst
}

// AppendName appends n as a Name TLV (TypeName) to dst.
func AppendName(dst []byte, n enc.Name) []byte {
	dst = AppendVarNum(dst, TypeName)
	dst = AppendVarNum(dst, uint64(NameValueLen(n)))
	return AppendNameValue(dst, n)
}

// CheckName checks, without allocating, what DecodeName checks: that val,
// the value of a Name TLV, is a sequence of whole components whose types are
// 1-65535. If maxComponentLen is not negative, it also refuses a component
// longer than that (NdndMaxComponentLen: one ndnd cannot encode).
func CheckName(val []byte, maxComponentLen int) error {
	_, _, err := checkName(val, maxComponentLen)
	return err
}

// checkName is CheckName, also returning the number of components and the
// total length of their values.
func checkName(val []byte, maxComponentLen int) (count, size int, err error) {
	r := NewReader(val)
	for r.More() {
		t, v, err := r.Next()
		if err != nil {
			return 0, 0, fmt.Errorf("name component %d: %w", count, err)
		}
		if t > maxComponentType {
			return 0, 0, fmt.Errorf("name component %d: type %#x out of range 1-65535", count, t)
		}
		if maxComponentLen >= 0 && len(v) > maxComponentLen {
			return 0, 0, fmt.Errorf("name component %d: %d bytes, longer than %d", count, len(v), maxComponentLen)
		}
		count++
		size += len(v)
	}
	return count, size, nil
}

// DecodeName decodes val, the value of a Name TLV, with the checks of
// CheckName and no length limit. The result is never nil (a Name with no
// components decodes as an empty Name) and does not alias val: the
// component values are copied into one new buffer, so decoding allocates
// about len(val) bytes plus one Component per component (at least 2 bytes
// of input each).
func DecodeName(val []byte) (enc.Name, error) {
	count, size, err := checkName(val, -1)
	if err != nil {
		return nil, err
	}
	name := make(enc.Name, 0, count)
	buf := make([]byte, 0, size)
	for r := NewReader(val); r.More(); {
		t, v, _ := r.Next() // checked above
		start := len(buf)
		buf = append(buf, v...)
		name = append(name, enc.Component{Typ: enc.TLNum(t), Val: buf[start:len(buf):len(buf)]})
	}
	return name, nil
}
