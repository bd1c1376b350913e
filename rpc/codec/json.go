package codec

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// JSON is the "json" codec, built on encoding/json. Its zero value is ready
// to use and it is safe for concurrent use.
//
// Marshal is deterministic: struct fields come out in declaration order and
// map keys sorted, as encoding/json guarantees, so equal values give equal
// bytes and cacheable calls get equal names.
type JSON struct{}

// Name returns "json".
func (JSON) Name() string { return NameJSON }

// Marshal encodes v with json.Marshal; the caller owns the result. It returns
// an error wrapping ErrUnsupportedType if v holds a type JSON cannot encode
// (a channel, function or complex number), and the json error wrapped with a
// "codec: json:" prefix for other failures (such as NaN, or an error from a
// MarshalJSON method).
func (JSON) Marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		var ute *json.UnsupportedTypeError
		if errors.As(err, &ute) {
			return nil, fmt.Errorf("%w: %w", ErrUnsupportedType, err)
		}
		return nil, fmt.Errorf("codec: json: %w", err)
	}
	return b, nil
}

// Unmarshal decodes data into v, which must be a non-nil pointer; otherwise
// it returns an error wrapping ErrUnsupportedType. Empty data means "no
// value" (a call without arguments) and leaves *v unchanged. Data that is not
// valid JSON, or does not fit v's type, gives an error wrapping ErrMalformed
// (and the json error); *v may then be partly filled. Unmarshal does not keep
// data.
func (JSON) Unmarshal(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("%w: json cannot decode into %T (need a non-nil pointer)", ErrUnsupportedType, v)
	}
	if len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: json: %w", ErrMalformed, err)
	}
	return nil
}
