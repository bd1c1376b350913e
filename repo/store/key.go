package store

import (
	"fmt"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/internal/tlv"
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
	return tlv.AppendNameValue(make([]byte, 0, tlv.NameValueLen(name)), name)
}

// NameFromKey decodes a key made by NameKey. It returns an error wrapping
// ErrBadKey if key is not a sequence of component TLVs in shortest
// var-number form (so NameKey(NameFromKey(k)) == k whenever err is nil), or if
// a component has TLV-TYPE 0. The returned components alias key.
func NameFromKey(key []byte) (enc.Name, error) {
	var name enc.Name
	for r := tlv.NewCanonicalReader(key); r.More(); {
		typ, val, err := r.Next()
		if err != nil {
			return nil, fmt.Errorf("%w: component %d: %w", ErrBadKey, len(name), err)
		}
		name = append(name, enc.Component{Typ: enc.TLNum(typ), Val: val})
	}
	return name, nil
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
