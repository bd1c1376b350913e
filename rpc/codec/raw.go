package codec

import "fmt"

// Raw is the "raw" codec, for payloads that already are bytes. Its zero value
// is ready to use and it is safe for concurrent use.
type Raw struct{}

// Name returns "raw".
func (Raw) Name() string { return NameRaw }

// Marshal returns the bytes held by v, which must be a []byte or a *[]byte
// (a nil *[]byte gives nil). It does not copy: the result aliases v's backing
// array, so the caller must not modify it until the encoded payload has been
// sent. Any other type gives an error wrapping ErrUnsupportedType.
func (Raw) Marshal(v any) ([]byte, error) {
	switch b := v.(type) {
	case []byte:
		return b, nil
	case *[]byte:
		if b == nil {
			return nil, nil
		}
		return *b, nil
	default:
		return nil, fmt.Errorf("%w: raw needs []byte or *[]byte, got %T", ErrUnsupportedType, v)
	}
}

// Unmarshal copies data into *v, which must be a non-nil *[]byte, reusing
// *v's capacity; the caller may reuse data afterwards. Any other v gives an
// error wrapping ErrUnsupportedType. It never returns ErrMalformed.
func (Raw) Unmarshal(data []byte, v any) error {
	p, ok := v.(*[]byte)
	if !ok || p == nil {
		return fmt.Errorf("%w: raw needs a non-nil *[]byte, got %T", ErrUnsupportedType, v)
	}
	*p = append((*p)[:0], data...)
	return nil
}
