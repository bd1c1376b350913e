package wire

import (
	"strconv"

	enc "github.com/named-data/ndnd/std/encoding"
)

// Kind says what a Response's Continuation names.
type Kind uint64

// The kinds of reply. A decoder accepts any value so a newer server can add
// kinds; a client that does not know a kind must fail the call rather than
// guess what Continuation means.
const (
	// KindInline: the whole reply is in the Response; no Continuation.
	KindInline Kind = 0
	// KindObject: Continuation names a segmented object holding the payload.
	KindObject Kind = 1
	// KindStream: Continuation is the prefix of a stream of messages.
	KindStream Kind = 2
	// KindOperation: Continuation names a long-running operation record.
	KindOperation Kind = 3
)

// String returns "inline", "object", "stream", "operation" or "Kind(n)".
func (k Kind) String() string {
	switch k {
	case KindInline:
		return "inline"
	case KindObject:
		return "object"
	case KindStream:
		return "stream"
	case KindOperation:
		return "operation"
	}
	return "Kind(" + strconv.FormatUint(uint64(k), 10) + ")"
}

// Response is the Response TLV (type 0x90), the Content of a reply Data. The
// zero value is a valid inline OK reply with an empty payload. A field at its
// zero value is not encoded.
//
// A Response is a plain value: it is not safe to Encode one while another
// goroutine modifies it, and Encode does not retain it.
type Response struct {
	// Status is a code from rpc/codes. The wire carries any uint32: values
	// above 16 come from a newer peer and callers treat them as Unknown.
	Status uint32
	// Message is the human-readable status message.
	Message string
	// Payload is the codec-encoded result of an inline reply.
	Payload []byte
	// ContentType names the codec of Payload; empty means "json".
	ContentType string
	// Metadata is sent in slice order (trailers and headers in one list).
	Metadata []MD
	// Continuation is required for kinds other than KindInline, and absent
	// for KindInline.
	Continuation enc.Name
	// Details is the opaque encoding of the status details.
	Details []byte
	// Kind says what Continuation names.
	Kind Kind
}

func (r *Response) innerLen() int {
	n := 0
	if r.Status != 0 {
		n += tlvLen(tStatus, natLen(uint64(r.Status)))
	}
	if r.Message != "" {
		n += tlvLen(tMessage, len(r.Message))
	}
	if len(r.Payload) > 0 {
		n += tlvLen(tPayload, len(r.Payload))
	}
	if r.ContentType != "" {
		n += tlvLen(tContentType, len(r.ContentType))
	}
	n += metadataLen(r.Metadata)
	if len(r.Continuation) > 0 {
		n += tlvLen(tContinuation, nameLen(r.Continuation))
	}
	if len(r.Details) > 0 {
		n += tlvLen(tDetails, len(r.Details))
	}
	if r.Kind != KindInline {
		n += tlvLen(tKind, natLen(uint64(r.Kind)))
	}
	return n
}

// EncodedLen is len(r.Encode()), computed without encoding.
func (r *Response) EncodedLen() int { return tlvLen(tResponse, r.innerLen()) }

// Encode returns the canonical encoding of r: elements in the order of
// docs/PROTOCOL.md, zero-valued fields omitted, minimal var-numbers and
// integers; the same Response always gives the same bytes.
//
// Encode does not validate: a Response that fails Validate encodes to bytes
// DecodeResponse rejects. The returned slice is newly allocated and owned by
// the caller; r is not retained.
func (r *Response) Encode() []byte {
	inner := r.innerLen()
	b := make([]byte, 0, tlvLen(tResponse, inner))
	b = appendTL(b, tResponse, inner)
	if r.Status != 0 {
		b = appendNat(b, tStatus, uint64(r.Status))
	}
	if r.Message != "" {
		b = appendString(b, tMessage, r.Message)
	}
	if len(r.Payload) > 0 {
		b = appendBytes(b, tPayload, r.Payload)
	}
	if r.ContentType != "" {
		b = appendString(b, tContentType, r.ContentType)
	}
	b = appendMetadata(b, r.Metadata)
	if len(r.Continuation) > 0 {
		b = appendName(b, tContinuation, r.Continuation)
	}
	if len(r.Details) > 0 {
		b = appendBytes(b, tDetails, r.Details)
	}
	if r.Kind != KindInline {
		b = appendNat(b, tKind, uint64(r.Kind))
	}
	return b
}

// Validate reports, wrapping ErrMalformed, why r.Encode() would not decode
// (invalid UTF-8, a limit exceeded, a bad key, a Continuation that does not
// match Kind). It returns nil when DecodeResponse(r.Encode()) succeeds.
func (r *Response) Validate() error {
	if r.Message != "" {
		if err := checkString(tMessage, r.Message, -1); err != nil {
			return err
		}
	}
	if r.ContentType != "" {
		if err := checkString(tContentType, r.ContentType, MaxContentTypeLen); err != nil {
			return err
		}
	}
	if err := validateMetadata(r.Metadata); err != nil {
		return err
	}
	if err := checkName(tContinuation, r.Continuation); err != nil {
		return err
	}
	return checkKind(r.Kind, len(r.Continuation) > 0)
}

func checkKind(k Kind, haveContinuation bool) error {
	switch {
	case k == KindInline && haveContinuation:
		return invalid(tContinuation, "present for kind inline")
	case (k == KindObject || k == KindStream || k == KindOperation) && !haveContinuation:
		return invalid(tContinuation, "missing for kind %v", k)
	}
	return nil
}

// DecodeResponse decodes b, which must be exactly one Response TLV, under the
// rules of DecodeRequest. It also rejects a Status above 2^32-1, and a
// Continuation that is missing for KindObject, KindStream and KindOperation
// or present for KindInline. Other Status and Kind values are accepted and
// returned as they are.
//
// The result does not alias b (one copy is shared by its byte slices and
// Name components). Empty fields are nil. DecodeResponse never panics and is
// safe for concurrent use.
func DecodeResponse(b []byte) (*Response, error) {
	buf := append([]byte(nil), b...)
	top := reader{b: buf}
	t, v, off, err := top.next(tResponse)
	if err != nil {
		return nil, err
	}
	if t != tResponse {
		return nil, malformed(tResponse, off, "outer type is %s, want Response (0x90)", typeName(t))
	}
	if !top.eof() {
		return nil, malformed(tResponse, top.off, "%d trailing bytes", len(buf)-top.off)
	}
	r := top.sub(v)
	resp := &Response{}
	var have seen
	for !r.eof() {
		t, v, off, err := r.next(tResponse)
		if err != nil {
			return nil, err
		}
		if responseSingles.has(t) && have.mark(t) {
			return nil, malformed(t, off, "duplicate")
		}
		switch t {
		case tStatus:
			s, err := readNat(t, off, v)
			if err != nil {
				return nil, err
			}
			if s == 0 || s > 0xffffffff {
				return nil, malformed(t, off, "%d outside 1..4294967295 (OK is encoded by omission)", s)
			}
			resp.Status = uint32(s)
		case tMessage:
			if resp.Message, err = readString(t, off, v, -1); err != nil {
				return nil, err
			}
		case tPayload:
			if len(v) == 0 {
				return nil, malformed(t, off, "empty (omit the element instead)")
			}
			resp.Payload = v
		case tContentType:
			if resp.ContentType, err = readString(t, off, v, MaxContentTypeLen); err != nil {
				return nil, err
			}
		case tMetadata:
			if len(resp.Metadata) == MaxMetadata {
				return nil, malformed(t, off, "more than %d pairs", MaxMetadata)
			}
			md, err := readMetadata(&r, off, v)
			if err != nil {
				return nil, err
			}
			resp.Metadata = append(resp.Metadata, md)
		case tContinuation:
			if resp.Continuation, err = readName(&r, t, off, v); err != nil {
				return nil, err
			}
		case tDetails:
			if len(v) == 0 {
				return nil, malformed(t, off, "empty (omit the element instead)")
			}
			resp.Details = v
		case tKind:
			k, err := readNat(t, off, v)
			if err != nil {
				return nil, err
			}
			if k == 0 {
				return nil, malformed(t, off, "explicit inline kind (encoded by omission)")
			}
			resp.Kind = Kind(k)
		default:
			if critical(t) {
				return nil, malformed(t, off, "unknown critical element in Response")
			}
		}
	}
	if err := checkKind(resp.Kind, len(resp.Continuation) > 0); err != nil {
		return nil, err
	}
	return resp, nil
}
