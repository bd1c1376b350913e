package pyrepo

import (
	"fmt"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/internal/tlv"
)

// This file holds the python-repo specific TLV helpers; the primitives
// (var-numbers, NonNegativeIntegers, the element reader, Names encoded
// correctly for components of 253 bytes and more) are in internal/tlv.
// Decoding copies every value it keeps, so a decoded message never aliases
// the input, and allocates at most about the input's size.

// malformed wraps err, a decoding error from package tlv, with
// ErrMalformed.
func malformed(err error) error { return fmt.Errorf("%w: %w", ErrMalformed, err) }

// appendNested appends a TLV of type typ whose value is the Name TLV of n
// (ForwardingHint, RegisterPrefix, SyncPrefix, PublisherFwdHint).
func appendNested(b []byte, typ uint64, n enc.Name) []byte {
	return tlv.AppendTLV(b, typ, tlv.AppendName(nil, n))
}

// decodeNat decodes a NonNegativeInteger value (1, 2, 4 or 8 bytes).
func decodeNat(val []byte, what string) (uint64, error) {
	n, err := tlv.ReadNat(val)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %w", ErrMalformed, what, err)
	}
	return n, nil
}

// decodeName decodes the value of a Name TLV (a copy, never nil: a Name
// with no components decodes as an empty Name); what names the field in
// errors.
func decodeName(val []byte, what string) (enc.Name, error) {
	n, err := tlv.DecodeName(val)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrMalformed, what, err)
	}
	return n, nil
}

// decodeNested decodes a TLV value that must be exactly one Name TLV.
func decodeNested(val []byte, what string) (enc.Name, error) {
	t, v, err := tlv.Single(val)
	if err != nil {
		return nil, fmt.Errorf("%w: %s must hold exactly one Name: %w", ErrMalformed, what, err)
	}
	if t != tlv.TypeName {
		return nil, fmt.Errorf("%w: %s must hold exactly one Name, not TLV-TYPE %#x", ErrMalformed, what, t)
	}
	return decodeName(v, what)
}

// decodeNames decodes a value holding zero or more Name TLVs (python-ndn's
// Links, used for ObjParam's ForwardingHint).
func decodeNames(val []byte, what string) ([]enc.Name, error) {
	names := []enc.Name{}
	r := tlv.NewReader(val)
	for r.More() {
		t, v, err := r.Next()
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrMalformed, what, err)
		}
		if t != tlv.TypeName {
			return nil, fmt.Errorf("%w: %s holds TLV-TYPE %#x, want Name", ErrMalformed, what, t)
		}
		n, err := decodeName(v, what)
		if err != nil {
			return nil, err
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
