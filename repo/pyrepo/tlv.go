package pyrepo

import (
	"encoding/binary"
	"fmt"

	enc "github.com/named-data/ndnd/std/encoding"
)

// This file is the hand-written TLV layer. It does not use ndnd's encoder
// for names because ndnd v1.5.3 writes a component's TLV-LENGTH as a
// NonNegativeInteger instead of a VAR-NUMBER
// (std/encoding/component.go:108 and :114, Nat(len)), which is wrong for
// components of 253 bytes or more. Decoding copies every value it keeps,
// so a decoded message never aliases the input, and allocates at most
// about the input's size.

// typeName is the NDN Name TLV-TYPE.
const typeName = 0x07

// appendVarNum appends v as an NDN TLV VAR-NUMBER.
func appendVarNum(b []byte, v uint64) []byte {
	switch {
	case v < 253:
		return append(b, byte(v))
	case v <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, 253), uint16(v))
	case v <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(b, 254), uint32(v))
	default:
		return binary.BigEndian.AppendUint64(append(b, 255), v)
	}
}

// appendTLV appends a TLV element with the given value.
func appendTLV(b []byte, typ uint64, val []byte) []byte {
	b = appendVarNum(b, typ)
	b = appendVarNum(b, uint64(len(val)))
	return append(b, val...)
}

// appendNat appends a TLV whose value is v as a NonNegativeInteger (1, 2, 4
// or 8 bytes, the shortest that holds it).
func appendNat(b []byte, typ uint64, v uint64) []byte {
	var tmp [8]byte
	var val []byte
	switch {
	case v <= 0xff:
		val = []byte{byte(v)}
	case v <= 0xffff:
		val = binary.BigEndian.AppendUint16(tmp[:0], uint16(v))
	case v <= 0xffffffff:
		val = binary.BigEndian.AppendUint32(tmp[:0], uint32(v))
	default:
		val = binary.BigEndian.AppendUint64(tmp[:0], v)
	}
	return appendTLV(b, typ, val)
}

// nameValue encodes the components of n (a Name TLV's value).
func nameValue(n enc.Name) []byte {
	var b []byte
	for _, c := range n {
		b = appendTLV(b, uint64(c.Typ), c.Val)
	}
	return b
}

// appendName appends n as a Name TLV.
func appendName(b []byte, n enc.Name) []byte { return appendTLV(b, typeName, nameValue(n)) }

// appendNested appends a TLV of type typ whose value is the Name TLV of n
// (ForwardingHint, RegisterPrefix, SyncPrefix, PublisherFwdHint).
func appendNested(b []byte, typ uint64, n enc.Name) []byte {
	return appendTLV(b, typ, appendName(nil, n))
}

// readVarNum reads a VAR-NUMBER from b; n is 0 when b is too short.
func readVarNum(b []byte) (v uint64, n int) {
	if len(b) == 0 {
		return 0, 0
	}
	switch x := b[0]; {
	case x < 253:
		return uint64(x), 1
	case x == 253 && len(b) >= 3:
		return uint64(binary.BigEndian.Uint16(b[1:3])), 3
	case x == 254 && len(b) >= 5:
		return uint64(binary.BigEndian.Uint32(b[1:5])), 5
	case x == 255 && len(b) >= 9:
		return binary.BigEndian.Uint64(b[1:9]), 9
	}
	return 0, 0
}

// tlvReader walks a sequence of TLV elements.
type tlvReader struct{ b []byte }

func (r *tlvReader) more() bool { return len(r.b) > 0 }

// next returns the next element's type and value (aliasing the input).
func (r *tlvReader) next() (typ uint64, val []byte, err error) {
	t, n1 := readVarNum(r.b)
	if n1 == 0 {
		return 0, nil, fmt.Errorf("%w: truncated TLV-TYPE", ErrMalformed)
	}
	if t == 0 {
		return 0, nil, fmt.Errorf("%w: TLV-TYPE 0", ErrMalformed)
	}
	l, n2 := readVarNum(r.b[n1:])
	if n2 == 0 {
		return 0, nil, fmt.Errorf("%w: truncated TLV-LENGTH of type %#x", ErrMalformed, t)
	}
	if l > uint64(len(r.b)-n1-n2) {
		return 0, nil, fmt.Errorf("%w: TLV of type %#x claims %d bytes, %d left", ErrMalformed, t, l, len(r.b)-n1-n2)
	}
	end := n1 + n2 + int(l)
	val = r.b[n1+n2 : end]
	r.b = r.b[end:]
	return t, val, nil
}

// decodeNat decodes a NonNegativeInteger value.
func decodeNat(val []byte, what string) (uint64, error) {
	switch len(val) {
	case 1:
		return uint64(val[0]), nil
	case 2:
		return uint64(binary.BigEndian.Uint16(val)), nil
	case 4:
		return uint64(binary.BigEndian.Uint32(val)), nil
	case 8:
		return binary.BigEndian.Uint64(val), nil
	}
	return 0, fmt.Errorf("%w: %s is a %d-byte NonNegativeInteger", ErrMalformed, what, len(val))
}

// decodeNameValue decodes the value of a Name TLV. A Name with no
// components decodes as a non-nil empty Name.
func decodeNameValue(val []byte) (enc.Name, error) {
	name := enc.Name{}
	r := tlvReader{val}
	for r.more() {
		t, v, err := r.next()
		if err != nil {
			return nil, fmt.Errorf("name component: %w", err)
		}
		if t > 0xffff {
			return nil, fmt.Errorf("%w: name component type %#x out of range", ErrMalformed, t)
		}
		name = append(name, enc.Component{Typ: enc.TLNum(t), Val: append([]byte{}, v...)})
	}
	return name, nil
}

// decodeNested decodes a TLV value that must be exactly one Name TLV.
func decodeNested(val []byte, what string) (enc.Name, error) {
	r := tlvReader{val}
	t, v, err := r.next()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if t != typeName || r.more() {
		return nil, fmt.Errorf("%w: %s must hold exactly one Name", ErrMalformed, what)
	}
	n, err := decodeNameValue(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return n, nil
}

// decodeNames decodes a value holding zero or more Name TLVs (python-ndn's
// Links, used for ObjParam's ForwardingHint).
func decodeNames(val []byte, what string) ([]enc.Name, error) {
	names := []enc.Name{}
	r := tlvReader{val}
	for r.more() {
		t, v, err := r.next()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		if t != typeName {
			return nil, fmt.Errorf("%w: %s holds TLV-TYPE %#x, want Name", ErrMalformed, what, t)
		}
		n, err := decodeNameValue(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		names = append(names, n)
	}
	return names, nil
}

// dupErr reports a repeated non-repeatable field.
func dupErr(what string) error { return fmt.Errorf("%w: %s appears twice", ErrMalformed, what) }

// unknownErr reports an unknown TLV-TYPE: every type in this protocol is
// critical (encoding.rst: "All TLV-TYPE numbers are critical").
func unknownErr(where string, t uint64) error {
	return fmt.Errorf("%w: unknown TLV-TYPE %#x in %s", ErrMalformed, t, where)
}
