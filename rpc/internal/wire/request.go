package wire

import (
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
)

// tUpstream is the Request element naming a client stream's upstream
// prefix. It is odd (critical) on purpose: a server that does not know it
// cannot pull the caller's items, so it must refuse the call rather than
// run a streaming call as a unary one.
const tUpstream = 0x8d

// MD is one metadata pair. Keys use gRPC's header alphabet (0-9 a-z - _ .),
// 1..MaxKeyLen bytes; values are opaque, 0..MaxValueLen bytes. A message may
// repeat a key: pairs keep their order on the wire.
type MD struct {
	Key   string
	Value []byte
}

// Request is the Request TLV (type 0x80), carried as a call Interest's
// ApplicationParameters. The zero value is a valid, empty request (json
// payload of zero bytes). A field at its zero value is not encoded.
//
// A Request is a plain value: it is not safe to Encode one while another
// goroutine modifies it, and Encode does not retain it.
type Request struct {
	// Payload is the codec-encoded argument. Empty when PayloadName is set.
	Payload []byte
	// ContentType names the codec of Payload ("json", "raw", "proto").
	// Empty means "json".
	ContentType string
	// RequestID is 16 random bytes, or empty. Signed calls carry one so the
	// server can execute them at most once; public calls must leave it empty
	// so that identical calls encode identically.
	RequestID []byte
	// Timeout is the caller's remaining deadline budget. It is sent in whole
	// milliseconds, rounded up; zero means no deadline.
	Timeout time.Duration
	// TraceParent and TraceState are W3C Trace Context headers.
	TraceParent, TraceState string
	// Metadata is sent in slice order.
	Metadata []MD
	// PayloadName names a segmented object holding the payload, for requests
	// too large for one Interest. The server fetches it; Payload is empty.
	PayloadName enc.Name
	// Upstream is the prefix under which the caller serves the items of a
	// client or bidirectional stream (<Upstream>/seq=N, pulled by the
	// server). Empty for every other call.
	Upstream enc.Name
}

// timeoutMS converts d to whole milliseconds, rounding up so a positive
// budget never becomes "no deadline". Negative durations give 0.
func timeoutMS(d time.Duration) uint64 {
	if d <= 0 {
		return 0
	}
	ms := uint64(d / time.Millisecond)
	if d%time.Millisecond != 0 {
		ms++
	}
	return min(ms, maxTimeoutMS)
}

// innerLen is the size of the Request TLV's value.
func (r *Request) innerLen() int {
	n := 0
	if len(r.Payload) > 0 {
		n += tlvLen(tPayload, len(r.Payload))
	}
	if r.ContentType != "" {
		n += tlvLen(tContentType, len(r.ContentType))
	}
	if len(r.RequestID) > 0 {
		n += tlvLen(tRequestID, len(r.RequestID))
	}
	if ms := timeoutMS(r.Timeout); ms > 0 {
		n += tlvLen(tTimeout, natLen(ms))
	}
	if r.TraceParent != "" {
		n += tlvLen(tTraceParent, len(r.TraceParent))
	}
	if r.TraceState != "" {
		n += tlvLen(tTraceState, len(r.TraceState))
	}
	n += metadataLen(r.Metadata)
	if len(r.PayloadName) > 0 {
		n += tlvLen(tPayloadName, nameLen(r.PayloadName))
	}
	if len(r.Upstream) > 0 {
		n += tlvLen(tUpstream, nameLen(r.Upstream))
	}
	return n
}

// EncodedLen is len(r.Encode()), computed without encoding.
func (r *Request) EncodedLen() int { return tlvLen(tRequest, r.innerLen()) }

// Encode returns the canonical encoding of r: elements in the order of
// docs/PROTOCOL.md, zero-valued fields omitted, minimal var-numbers and
// integers. The same Request always gives the same bytes, which public calls
// rely on (their name carries the SHA-256 of these bytes).
//
// Encode does not validate: a Request that fails Validate encodes to bytes
// DecodeRequest rejects. The returned slice is newly allocated and owned by
// the caller; r is not retained.
func (r *Request) Encode() []byte {
	inner := r.innerLen()
	b := make([]byte, 0, tlvLen(tRequest, inner))
	b = appendTL(b, tRequest, inner)
	if len(r.Payload) > 0 {
		b = appendBytes(b, tPayload, r.Payload)
	}
	if r.ContentType != "" {
		b = appendString(b, tContentType, r.ContentType)
	}
	if len(r.RequestID) > 0 {
		b = appendBytes(b, tRequestID, r.RequestID)
	}
	if ms := timeoutMS(r.Timeout); ms > 0 {
		b = appendNat(b, tTimeout, ms)
	}
	if r.TraceParent != "" {
		b = appendString(b, tTraceParent, r.TraceParent)
	}
	if r.TraceState != "" {
		b = appendString(b, tTraceState, r.TraceState)
	}
	b = appendMetadata(b, r.Metadata)
	if len(r.PayloadName) > 0 {
		b = appendName(b, tPayloadName, r.PayloadName)
	}
	if len(r.Upstream) > 0 {
		b = appendName(b, tUpstream, r.Upstream)
	}
	return b
}

// Validate reports, wrapping ErrMalformed, why r.Encode() would not decode
// (a limit exceeded, invalid UTF-8, a bad key, a RequestID that is not 16
// bytes, both Payload and PayloadName set), or a negative Timeout. It returns
// nil when DecodeRequest(r.Encode()) succeeds.
func (r *Request) Validate() error {
	if len(r.Payload) > 0 && len(r.PayloadName) > 0 {
		return invalid(tPayloadName, "set together with Payload")
	}
	if r.ContentType != "" {
		if err := checkString(tContentType, r.ContentType, MaxContentTypeLen); err != nil {
			return err
		}
	}
	if len(r.RequestID) != 0 && len(r.RequestID) != RequestIDLen {
		return invalid(tRequestID, "%d bytes, want %d", len(r.RequestID), RequestIDLen)
	}
	if r.Timeout < 0 {
		return invalid(tTimeout, "negative (%v)", r.Timeout)
	}
	if r.TraceParent != "" {
		if err := checkString(tTraceParent, r.TraceParent, MaxTraceParentLen); err != nil {
			return err
		}
	}
	if r.TraceState != "" {
		if err := checkString(tTraceState, r.TraceState, MaxTraceStateLen); err != nil {
			return err
		}
	}
	if err := validateMetadata(r.Metadata); err != nil {
		return err
	}
	if err := checkName(tPayloadName, r.PayloadName); err != nil {
		return err
	}
	return checkName(tUpstream, r.Upstream)
}

func validateMetadata(md []MD) error {
	if len(md) > MaxMetadata {
		return invalid(tMetadata, "%d pairs, limit %d", len(md), MaxMetadata)
	}
	for _, p := range md {
		if err := checkKey(p.Key); err != nil {
			return err
		}
		if err := checkValue(p.Value); err != nil {
			return err
		}
	}
	return nil
}

// DecodeRequest decodes b, which must be exactly one Request TLV. It accepts
// elements in any order, skips unknown non-critical (even, >= 32) types and
// rejects, with an error wrapping ErrMalformed: unknown critical types,
// duplicates of non-repeated elements, truncated or trailing bytes,
// non-canonical encodings (explicit zero or empty values, non-minimal
// numbers) and values outside the limits.
//
// The result does not alias b: DecodeRequest copies b once and the byte
// slices and Name components of the result share that copy. Empty fields are
// nil. DecodeRequest never panics and is safe for concurrent use.
func DecodeRequest(b []byte) (*Request, error) {
	buf := append([]byte(nil), b...)
	top := reader{b: buf}
	t, v, off, err := top.next(tRequest)
	if err != nil {
		return nil, err
	}
	if t != tRequest {
		return nil, malformed(tRequest, off, "outer type is %s, want Request (0x80)", typeName(t))
	}
	if !top.eof() {
		return nil, malformed(tRequest, top.off, "%d trailing bytes", len(buf)-top.off)
	}
	r := top.sub(v)
	req := &Request{}
	var have seen
	for !r.eof() {
		t, v, off, err := r.next(tRequest)
		if err != nil {
			return nil, err
		}
		if (requestSingles.has(t) || t == tUpstream) && have.mark(t) {
			return nil, malformed(t, off, "duplicate")
		}
		switch t {
		case tPayload:
			if len(v) == 0 {
				return nil, malformed(t, off, "empty (omit the element instead)")
			}
			req.Payload = v
		case tContentType:
			if req.ContentType, err = readString(t, off, v, MaxContentTypeLen); err != nil {
				return nil, err
			}
		case tRequestID:
			if len(v) != RequestIDLen {
				return nil, malformed(t, off, "%d bytes, want %d", len(v), RequestIDLen)
			}
			req.RequestID = v
		case tTimeout:
			ms, err := readNat(t, off, v)
			if err != nil {
				return nil, err
			}
			if ms == 0 || ms > maxTimeoutMS {
				return nil, malformed(t, off, "%d ms outside 1..%d", ms, uint64(maxTimeoutMS))
			}
			req.Timeout = time.Duration(ms) * time.Millisecond
		case tTraceParent:
			if req.TraceParent, err = readString(t, off, v, MaxTraceParentLen); err != nil {
				return nil, err
			}
		case tTraceState:
			if req.TraceState, err = readString(t, off, v, MaxTraceStateLen); err != nil {
				return nil, err
			}
		case tMetadata:
			if len(req.Metadata) == MaxMetadata {
				return nil, malformed(t, off, "more than %d pairs", MaxMetadata)
			}
			md, err := readMetadata(&r, off, v)
			if err != nil {
				return nil, err
			}
			req.Metadata = append(req.Metadata, md)
		case tPayloadName:
			if req.PayloadName, err = readName(&r, t, off, v); err != nil {
				return nil, err
			}
		case tUpstream:
			if req.Upstream, err = readName(&r, t, off, v); err != nil {
				return nil, err
			}
		default:
			if critical(t) {
				return nil, malformed(t, off, "unknown critical element in Request")
			}
		}
	}
	if len(req.Payload) > 0 && len(req.PayloadName) > 0 {
		return nil, malformed(tPayloadName, r.base, "present together with Payload")
	}
	return req, nil
}
