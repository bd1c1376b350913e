package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"

	enc "github.com/named-data/ndnd/std/encoding"
)

// ErrMalformed is wrapped (with %w) by every error DecodeRequest,
// DecodeResponse, Request.Validate and Response.Validate return. The wrapping
// error names the TLV element and the byte offset of the problem; callers
// must test with errors.Is, never by the text.
var ErrMalformed = errors.New("rpc/wire: malformed")

// Limits enforced by the decoders and by Validate. They are part of the wire
// protocol (docs/PROTOCOL.md): a peer that exceeds them is answered with an
// error, so they must only ever grow.
const (
	// MaxMetadata is the largest number of Metadata pairs in one message.
	MaxMetadata = 64
	// MaxKeyLen is the longest Metadata key, in bytes.
	MaxKeyLen = 256
	// MaxValueLen is the longest Metadata value, in bytes.
	MaxValueLen = 8 << 10
	// MaxContentTypeLen is the longest ContentType, in bytes.
	MaxContentTypeLen = 255
	// MaxTraceParentLen is the longest TraceParent, in bytes.
	MaxTraceParentLen = 255
	// MaxTraceStateLen is the longest TraceState, in bytes (W3C Trace Context
	// asks vendors to propagate at least 512 characters).
	MaxTraceStateLen = 512
	// RequestIDLen is the exact length of a RequestId.
	RequestIDLen = 16
)

// maxTimeoutMS is the largest Timeout in milliseconds that fits a
// time.Duration.
const maxTimeoutMS = math.MaxInt64 / 1_000_000

// TLV types. Values 0x80..0xfc are one byte on the wire. The parity follows
// the NDN packet format evolvability rule: a decoder that meets an unknown
// odd type must fail, an unknown even type it skips.
const (
	tRequest      = 0x80
	tPayload      = 0x81
	tContentType  = 0x82
	tRequestID    = 0x83
	tTimeout      = 0x84
	tTraceParent  = 0x85
	tMetadata     = 0x86
	tKey          = 0x87
	tValue        = 0x88
	tPayloadName  = 0x89
	tTraceState   = 0x8a
	tResponse     = 0x90
	tStatus       = 0x91
	tMessage      = 0x92
	tContinuation = 0x93
	tDetails      = 0x94
	tKind         = 0x95

	tName = 0x07 // NDN Name
)

// typeNames gives error messages the element name a reader of PROTOCOL.md knows.
var typeNames = map[uint64]string{
	tRequest: "Request", tPayload: "Payload", tContentType: "ContentType",
	tRequestID: "RequestId", tTimeout: "Timeout", tTraceParent: "TraceParent",
	tMetadata: "Metadata", tKey: "Key", tValue: "Value", tPayloadName: "PayloadName",
	tTraceState: "TraceState", tResponse: "Response", tStatus: "Status",
	tMessage: "Message", tContinuation: "Continuation", tDetails: "Details",
	tKind: "Kind", tName: "Name", tUpstream: "Upstream",
}

func typeName(t uint64) string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("type %#x", t)
}

// critical reports whether a decoder must reject an unknown element of type t
// (NDN packet format v0.3, "Considerations for Evolvability of TLV-Based
// Encoding": types below 32 and odd types are critical).
func critical(t uint64) bool { return t < 32 || t&1 == 1 }

// fieldError is the error of every decoder and Validate. It wraps
// ErrMalformed. off is -1 when there is no input (Validate).
type fieldError struct {
	label  string
	off    int
	detail string
}

func (e *fieldError) Error() string {
	if e.off < 0 {
		return fmt.Sprintf("%v: %s: %s", ErrMalformed, e.label, e.detail)
	}
	return fmt.Sprintf("%v: %s at offset %d: %s", ErrMalformed, e.label, e.off, e.detail)
}

func (e *fieldError) Unwrap() error { return ErrMalformed }

// malformed builds the error for a problem with element t at offset off.
func malformed(t uint64, off int, format string, args ...any) error {
	return &fieldError{label: typeName(t), off: off, detail: fmt.Sprintf(format, args...)}
}

// invalid builds the error for a field that has no offset: a Validate
// failure, or a check the decoder then places with at.
func invalid(t uint64, format string, args ...any) error {
	return &fieldError{label: typeName(t), off: -1, detail: fmt.Sprintf(format, args...)}
}

// at places an error from invalid at offset off.
func at(err error, off int) error {
	if fe, ok := err.(*fieldError); ok && fe.off < 0 {
		c := *fe
		c.off = off
		return &c
	}
	return err
}

// ---- encoding ----

// varLen is the size of a TLV-TYPE or TLV-LENGTH var-number.
func varLen(v uint64) int { return enc.TLNum(v).EncodingLength() }

// natLen is the size of a NonNegativeInteger.
func natLen(v uint64) int { return enc.Nat(v).EncodingLength() }

// tlvLen is the size of a whole element whose value is n bytes long.
func tlvLen(t uint64, n int) int { return varLen(t) + varLen(uint64(n)) + n }

func appendVar(b []byte, v uint64) []byte {
	switch {
	case v <= 0xfc:
		return append(b, byte(v))
	case v <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, 0xfd), uint16(v))
	case v <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(b, 0xfe), uint32(v))
	default:
		return binary.BigEndian.AppendUint64(append(b, 0xff), v)
	}
}

func appendTL(b []byte, t uint64, n int) []byte {
	return appendVar(appendVar(b, t), uint64(n))
}

func appendBytes(b []byte, t uint64, v []byte) []byte {
	return append(appendTL(b, t, len(v)), v...)
}

func appendString(b []byte, t uint64, v string) []byte {
	return append(appendTL(b, t, len(v)), v...)
}

func appendNat(b []byte, t uint64, v uint64) []byte {
	b = appendTL(b, t, natLen(v))
	switch natLen(v) {
	case 1:
		return append(b, byte(v))
	case 2:
		return binary.BigEndian.AppendUint16(b, uint16(v))
	case 4:
		return binary.BigEndian.AppendUint32(b, uint32(v))
	default:
		return binary.BigEndian.AppendUint64(b, v)
	}
}

// nameInnerLen is the size of n's components. It does not use
// enc.Name.EncodingLength: in ndnd v1.5.3 a component's TLV-LENGTH is written
// as a NonNegativeInteger instead of a var-number
// (std/encoding/component.go:108 and :114, and the Name length in
// name_pattern.go:136-138), which is wrong for values of 253 bytes or more
// (regression test: TestNameLongComponent).
func nameInnerLen(n enc.Name) int {
	l := 0
	for _, c := range n {
		l += tlvLen(uint64(c.Typ), len(c.Val))
	}
	return l
}

// nameLen is the size of the Name TLV (0x07) holding n.
func nameLen(n enc.Name) int { return tlvLen(tName, nameInnerLen(n)) }

// appendName appends element t whose value is the Name TLV of n.
func appendName(b []byte, t uint64, n enc.Name) []byte {
	inner := nameInnerLen(n)
	b = appendTL(b, t, tlvLen(tName, inner))
	b = appendTL(b, tName, inner)
	for _, c := range n {
		b = appendVar(b, uint64(c.Typ))
		b = appendVar(b, uint64(len(c.Val)))
		b = append(b, c.Val...)
	}
	return b
}

func metadataLen(md []MD) int {
	n := 0
	for _, p := range md {
		n += tlvLen(tMetadata, tlvLen(tKey, len(p.Key))+tlvLen(tValue, len(p.Value)))
	}
	return n
}

func appendMetadata(b []byte, md []MD) []byte {
	for _, p := range md {
		b = appendTL(b, tMetadata, tlvLen(tKey, len(p.Key))+tlvLen(tValue, len(p.Value)))
		b = appendString(b, tKey, p.Key)
		b = appendBytes(b, tValue, p.Value)
	}
	return b
}

// ---- decoding ----

// reader walks a sequence of TLV elements. base is the offset of b[0] in the
// whole input, so errors report offsets a user can find in a hex dump.
type reader struct {
	b    []byte
	off  int
	base int
	comp bool // reading name components: label errors as such
}

// malformed labels errors inside a Name as name-component errors, since
// component types (8, 0x32, ...) would otherwise print as our element names.
func (r *reader) malformed(t uint64, off int, format string, args ...any) error {
	if r.comp && t == tName {
		return &fieldError{label: "Name component", off: off, detail: fmt.Sprintf(format, args...)}
	}
	if r.comp {
		return &fieldError{label: fmt.Sprintf("Name component (type %d)", t), off: off, detail: fmt.Sprintf(format, args...)}
	}
	return malformed(t, off, format, args...)
}

func (r *reader) eof() bool { return r.off >= len(r.b) }

// readVar reads a var-number and rejects the non-minimal encodings, so every
// message has exactly one encoding (see doc.go, "Canonical form").
func (r *reader) readVar(t uint64) (uint64, error) {
	start := r.base + r.off
	if r.eof() {
		return 0, r.malformed(t, start, "truncated var-number")
	}
	first := r.b[r.off]
	var size int
	var min uint64
	switch {
	case first <= 0xfc:
		r.off++
		return uint64(first), nil
	case first == 0xfd:
		size, min = 2, 0xfd
	case first == 0xfe:
		size, min = 4, 0x10000
	default:
		size, min = 8, 0x100000000
	}
	if len(r.b)-r.off-1 < size {
		return 0, r.malformed(t, start, "truncated var-number")
	}
	raw := r.b[r.off+1 : r.off+1+size]
	var v uint64
	for _, c := range raw {
		v = v<<8 | uint64(c)
	}
	if v < min {
		return 0, r.malformed(t, start, "non-minimal var-number encoding")
	}
	r.off += 1 + size
	return v, nil
}

// next reads one element: its type, its value (a sub-slice of r.b) and the
// offset of its first byte in the whole input. parent names the enclosing
// element for errors about the header itself.
func (r *reader) next(parent uint64) (t uint64, v []byte, off int, err error) {
	off = r.base + r.off
	if t, err = r.readVar(parent); err != nil {
		return 0, nil, off, err
	}
	n, err := r.readVar(t)
	if err != nil {
		return 0, nil, off, err
	}
	if n > uint64(len(r.b)-r.off) {
		return 0, nil, off, r.malformed(t, off, "length %d exceeds the %d bytes left", n, len(r.b)-r.off)
	}
	v = r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return t, v, off, nil
}

// sub returns a reader over v, the value of the element at off whose header
// ended just before v. v must be a sub-slice of r.b.
func (r *reader) sub(v []byte) reader {
	return reader{b: v, base: r.base + r.off - len(v)}
}

// readNat decodes a NonNegativeInteger (1, 2, 4 or 8 bytes, minimal).
func readNat(t uint64, off int, v []byte) (uint64, error) {
	var x uint64
	switch len(v) {
	case 1, 2, 4, 8:
		for _, c := range v {
			x = x<<8 | uint64(c)
		}
	default:
		return 0, malformed(t, off, "NonNegativeInteger length %d, want 1, 2, 4 or 8", len(v))
	}
	if natLen(x) != len(v) {
		return 0, malformed(t, off, "non-minimal NonNegativeInteger encoding")
	}
	return x, nil
}

// readString decodes a UTF-8 string of 1..max bytes (max < 0: no limit).
func readString(t uint64, off int, v []byte, max int) (string, error) {
	if err := checkString(t, string(v), max); err != nil {
		return "", at(err, off)
	}
	return string(v), nil
}

func checkString(t uint64, s string, max int) error {
	switch {
	case len(s) == 0:
		return invalid(t, "empty (omit the element instead)")
	case max >= 0 && len(s) > max:
		return invalid(t, "%d bytes, limit %d", len(s), max)
	case !utf8.ValidString(s):
		return invalid(t, "not valid UTF-8")
	}
	return nil
}

// checkKey enforces the Metadata key alphabet, which is gRPC's for header
// names: 0-9 a-z - _ . (so keys map 1:1 to gRPC metadata and HTTP headers).
func checkKey(k string) error {
	if len(k) == 0 || len(k) > MaxKeyLen {
		return invalid(tKey, "length %d, want 1..%d", len(k), MaxKeyLen)
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return invalid(tKey, "byte %#x at index %d is not in [0-9a-z_.-]", c, i)
		}
	}
	return nil
}

func checkValue(v []byte) error {
	if len(v) > MaxValueLen {
		return invalid(tValue, "%d bytes, limit %d", len(v), MaxValueLen)
	}
	return nil
}

// readMetadata decodes the value of one Metadata container.
func readMetadata(r *reader, off int, v []byte) (MD, error) {
	sr := r.sub(v)
	var md MD
	var haveKey, haveValue bool
	for !sr.eof() {
		t, ev, eoff, err := sr.next(tMetadata)
		if err != nil {
			return MD{}, err
		}
		switch t {
		case tKey:
			if haveKey {
				return MD{}, malformed(t, eoff, "duplicate")
			}
			haveKey = true
			if err := checkKey(string(ev)); err != nil {
				return MD{}, at(err, eoff)
			}
			md.Key = string(ev)
		case tValue:
			if haveValue {
				return MD{}, malformed(t, eoff, "duplicate")
			}
			haveValue = true
			if err := checkValue(ev); err != nil {
				return MD{}, at(err, eoff)
			}
			if len(ev) > 0 {
				md.Value = ev
			}
		default:
			if critical(t) {
				return MD{}, malformed(t, eoff, "unknown critical element in Metadata")
			}
		}
	}
	if !haveKey || !haveValue {
		return MD{}, malformed(tMetadata, off, "each pair needs exactly one Key and one Value")
	}
	return md, nil
}

// readName decodes the value of element t, which must be exactly one
// non-empty NDN Name TLV. Component values alias v.
func readName(r *reader, t uint64, off int, v []byte) (enc.Name, error) {
	sr := r.sub(v)
	nt, nv, noff, err := sr.next(t)
	if err != nil {
		return nil, err
	}
	if nt != tName {
		return nil, malformed(t, noff, "holds %s, want a Name (0x07)", typeName(nt))
	}
	if !sr.eof() {
		return nil, malformed(t, sr.base+sr.off, "trailing bytes after the Name")
	}
	cr := sr.sub(nv)
	cr.comp = true
	var name enc.Name
	for !cr.eof() {
		ct, cv, coff, err := cr.next(tName)
		if err != nil {
			return nil, err
		}
		if err := checkComponent(ct, len(cv)); err != nil {
			return nil, at(err, coff)
		}
		name = append(name, enc.Component{Typ: enc.TLNum(ct), Val: cv})
	}
	if len(name) == 0 {
		return nil, malformed(t, off, "empty Name (omit the element instead)")
	}
	return name, nil
}

// checkComponent applies the NDN packet format rules for a name component:
// TLV-TYPE 1..65535, and 32-byte values for the two digest components.
func checkComponent(t uint64, n int) error {
	if t == 0 || t > 0xffff {
		return &fieldError{label: "Name component", off: -1, detail: fmt.Sprintf("type %d outside 1..65535", t)}
	}
	if (t == uint64(enc.TypeImplicitSha256DigestComponent) || t == uint64(enc.TypeParametersSha256DigestComponent)) && n != 32 {
		return &fieldError{label: "Name component", off: -1, detail: fmt.Sprintf("digest of %d bytes, want 32", n)}
	}
	return nil
}

func checkName(t uint64, n enc.Name) error {
	if len(n) == 0 {
		return nil
	}
	for _, c := range n {
		if err := checkComponent(uint64(c.Typ), len(c.Val)); err != nil {
			err.(*fieldError).label = typeName(t) + " component"
			return err
		}
	}
	return nil
}

// set is a set of our TLV types (0x80..0x95), one bit each.
type set uint64

func setOf(ts ...uint64) set {
	var s set
	for _, t := range ts {
		s |= 1 << (t - tRequest)
	}
	return s
}

func (s set) has(t uint64) bool { return t >= tRequest && t <= tKind && s&(1<<(t-tRequest)) != 0 }

// The elements that may appear at most once in each message.
var (
	requestSingles  = setOf(tPayload, tContentType, tRequestID, tTimeout, tTraceParent, tTraceState, tPayloadName)
	responseSingles = setOf(tStatus, tMessage, tPayload, tContentType, tContinuation, tDetails, tKind)
)

// seen tracks which non-repeated elements a message has had; our types are
// 0x80..0x95, so one bit each fits a uint64.
type seen uint64

// mark records t and reports whether it was already present.
func (s *seen) mark(t uint64) bool {
	bit := seen(1) << (t - tRequest)
	dup := *s&bit != 0
	*s |= bit
	return dup
}
