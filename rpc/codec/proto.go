package codec

import (
	"fmt"

	"google.golang.org/protobuf/proto"
)

// Proto is the "proto" codec, for protocol buffer messages, built on
// google.golang.org/protobuf. Its zero value is ready to use and it is safe
// for concurrent use.
type Proto struct{}

// Name returns "proto".
func (Proto) Name() string { return NameProto }

// marshalOptions makes map fields encode in sorted key order, so equal
// messages give equal bytes (see the package doc).
var marshalOptions = proto.MarshalOptions{Deterministic: true}

// Marshal encodes v, which must be a proto.Message, deterministically; the
// caller owns the result. A nil message of a proto type encodes as empty. A
// non-message v gives an error wrapping ErrUnsupportedType; other failures
// (such as missing required fields in proto2) are wrapped with a
// "codec: proto:" prefix.
func (Proto) Marshal(v any) ([]byte, error) {
	m, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("%w: proto needs a proto.Message, got %T", ErrUnsupportedType, v)
	}
	b, err := marshalOptions.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("codec: proto: %w", err)
	}
	return b, nil
}

// Unmarshal resets v, which must be a non-nil proto.Message, and decodes data
// into it; empty data leaves the message empty. A non-message or nil v gives
// an error wrapping ErrUnsupportedType; data that is not a valid encoding of
// v's type gives one wrapping ErrMalformed. Unmarshal does not keep data.
func (Proto) Unmarshal(data []byte, v any) error {
	m, ok := v.(proto.Message)
	if !ok || m == nil || !m.ProtoReflect().IsValid() {
		return fmt.Errorf("%w: proto needs a non-nil proto.Message, got %T", ErrUnsupportedType, v)
	}
	if err := proto.Unmarshal(data, m); err != nil {
		return fmt.Errorf("%w: proto: %w", ErrMalformed, err)
	}
	return nil
}
