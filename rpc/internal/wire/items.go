package wire

// A stream packet (docs/PROTOCOL.md §16) carries one or more stream items:
// its Content is their Response TLVs back to back, in stream order.

// EncodeItems returns the Content of a stream packet holding items, in
// order: their canonical encodings back to back. It does not validate (see
// Response.Validate); the result is newly allocated and items are not
// retained.
func EncodeItems(items []*Response) []byte {
	n := 0
	for _, r := range items {
		n += r.EncodedLen()
	}
	b := make([]byte, 0, n)
	for _, r := range items {
		b = append(b, r.Encode()...)
	}
	return b
}

// DecodeItems decodes the Content of a stream packet: one or more Response
// TLVs back to back, each decoded as DecodeResponse does. Every Response but
// the last must be a plain item: status OK and kind inline; only the last
// may end the stream (an error status) or carry a continuation (a client
// stream's large result). It returns at most len(b)/2 items (the shortest
// Response is 2 bytes), never an empty list.
//
// Errors wrap ErrMalformed: empty input, bytes that are not a whole number
// of elements, an element that is not a Response or does not decode, or a
// non-last Response that is not a plain item. The result does not alias b.
// DecodeItems never panics and is safe for concurrent use.
func DecodeItems(b []byte) ([]*Response, error) {
	if len(b) == 0 {
		return nil, malformed(tResponse, 0, "stream packet holds no item")
	}
	r := reader{b: b}
	var items []*Response
	for !r.eof() {
		start := r.off
		t, _, off, err := r.next(tResponse)
		if err != nil {
			return nil, err
		}
		if t != tResponse {
			return nil, malformed(tResponse, off, "item %d is %s, want Response (0x90)", len(items), typeName(t))
		}
		resp, err := DecodeResponse(b[start:r.off])
		if err != nil {
			return nil, shift(err, start)
		}
		if len(items) > 0 {
			if prev := items[len(items)-1]; !plainItem(prev) {
				return nil, malformed(tResponse, off, "item %d follows the end of the stream (status %d, kind %v)", len(items), prev.Status, prev.Kind)
			}
		}
		items = append(items, resp)
	}
	return items, nil
}

// plainItem reports whether r is a regular stream item rather than the
// stream's end or a continuation.
func plainItem(r *Response) bool {
	return r.Status == 0 && r.Kind == KindInline
}

// shift moves the offset of a decoder error found in a sub-slice starting
// at off of the whole input.
func shift(err error, off int) error {
	if fe, ok := err.(*fieldError); ok && fe.off >= 0 {
		c := *fe
		c.off += off
		return &c
	}
	return err
}
