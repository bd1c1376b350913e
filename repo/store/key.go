package store

import (
	"encoding/binary"
	"fmt"

	enc "github.com/named-data/ndnd/std/encoding"
)

// NameKey encodes name as a database key whose byte order is the NDN
// canonical name order: for any names a and b,
// bytes.Compare(NameKey(a), NameKey(b)) == a.Compare(b).
//
// The key is the concatenation of each component's TLV (TLV-TYPE and
// TLV-LENGTH as shortest NDN var-numbers, then TLV-VALUE), i.e. the value of
// the Name TLV. This works because the shortest var-number encoding preserves
// numeric order (1-byte values 0..252 < 0xFD+2 bytes < 0xFE+4 bytes <
// 0xFF+8 bytes) and is prefix-free, so keys compare by type, then by length,
// then by value bytes, component by component, and a name sorts before every
// name it is a prefix of. The components are encoded here rather than with
// ndnd's Component.Bytes, which in ndnd v1.5.3 writes TLV-LENGTH as a
// NonNegativeInteger instead of a var-number and so mis-encodes components
// of 253 bytes or more.
//
// NameKey of the empty name is an empty slice. The result is newly allocated
// and owned by the caller.
func NameKey(name enc.Name) []byte {
	n := 0
	for _, c := range name {
		n += varNumLen(uint64(c.Typ)) + varNumLen(uint64(len(c.Val))) + len(c.Val)
	}
	key := make([]byte, 0, n)
	for _, c := range name {
		key = appendComponent(key, c)
	}
	return key
}

// NameFromKey decodes a key made by NameKey. It returns an error wrapping
// ErrBadKey if key is not a sequence of component TLVs in shortest
// var-number form (so NameKey(NameFromKey(k)) == k whenever err is nil), or if
// a component has TLV-TYPE 0. The returned components alias key.
func NameFromKey(key []byte) (enc.Name, error) {
	var name enc.Name
	for pos := 0; pos < len(key); {
		typ, n, err := readVarNum(key[pos:])
		if err != nil {
			return nil, fmt.Errorf("%w: component %d type: %w", ErrBadKey, len(name), err)
		}
		if typ == 0 {
			return nil, fmt.Errorf("%w: component %d has type 0", ErrBadKey, len(name))
		}
		pos += n
		l, n, err := readVarNum(key[pos:])
		if err != nil {
			return nil, fmt.Errorf("%w: component %d length: %w", ErrBadKey, len(name), err)
		}
		pos += n
		if l > uint64(len(key)-pos) {
			return nil, fmt.Errorf("%w: component %d length %d overruns key", ErrBadKey, len(name), l)
		}
		name = append(name, enc.Component{Typ: enc.TLNum(typ), Val: key[pos : pos+int(l) : pos+int(l)]})
		pos += int(l)
	}
	return name, nil
}

func appendComponent(dst []byte, c enc.Component) []byte {
	dst = appendVarNum(dst, uint64(c.Typ))
	dst = appendVarNum(dst, uint64(len(c.Val)))
	return append(dst, c.Val...)
}

func varNumLen(x uint64) int {
	switch {
	case x <= 0xfc:
		return 1
	case x <= 0xffff:
		return 3
	case x <= 0xffffffff:
		return 5
	default:
		return 9
	}
}

// appendVarNum appends x as an NDN TLV var-number in its shortest form.
func appendVarNum(dst []byte, x uint64) []byte {
	switch {
	case x <= 0xfc:
		return append(dst, byte(x))
	case x <= 0xffff:
		return binary.BigEndian.AppendUint16(append(dst, 0xfd), uint16(x))
	case x <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(dst, 0xfe), uint32(x))
	default:
		return binary.BigEndian.AppendUint64(append(dst, 0xff), x)
	}
}

var (
	errShortVarNum     = fmt.Errorf("truncated var-number")
	errNonMinimalVarNm = fmt.Errorf("var-number not in shortest form")
)

// readVarNum reads a shortest-form var-number from b.
func readVarNum(b []byte) (uint64, int, error) {
	if len(b) == 0 {
		return 0, 0, errShortVarNum
	}
	var x uint64
	var n int
	switch b[0] {
	case 0xfd:
		if len(b) < 3 {
			return 0, 0, errShortVarNum
		}
		x, n = uint64(binary.BigEndian.Uint16(b[1:])), 3
	case 0xfe:
		if len(b) < 5 {
			return 0, 0, errShortVarNum
		}
		x, n = uint64(binary.BigEndian.Uint32(b[1:])), 5
	case 0xff:
		if len(b) < 9 {
			return 0, 0, errShortVarNum
		}
		x, n = binary.BigEndian.Uint64(b[1:]), 9
	default:
		return uint64(b[0]), 1, nil
	}
	if varNumLen(x) != n {
		return 0, 0, errNonMinimalVarNm
	}
	return x, n, nil
}

// prefixEnd returns the smallest key greater than every key that has prefix
// p as a byte prefix, or nil if there is none (p is empty or all 0xFF).
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
