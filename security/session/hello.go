package session

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// TLV types of the handshake messages, from the application range
// 0xA0..0xAF. See the package doc for the layout.
const (
	// TypeClientHello is the outer TLV of a ClientHello.
	TypeClientHello = 0xA0
	// TypeServerHello is the outer TLV of a ServerHello.
	TypeServerHello = 0xA1
	// TypeEphemeralPub holds a 32-byte X25519 public key.
	TypeEphemeralPub = 0xA2
	// TypeSessionID holds the 16-byte session id.
	TypeSessionID = 0xA3
	// TypeLifetime holds the session lifetime in milliseconds as an NDN
	// NonNegativeInteger (1, 2, 4 or 8 bytes, shortest form).
	TypeLifetime = 0xA4
)

// maxLifetimeMs is the longest lifetime a ServerHello may carry: what fits in
// a time.Duration.
const maxLifetimeMs = math.MaxInt64 / int64(time.Millisecond)

// ClientHello is the client's half of the handshake, carried as the
// ApplicationParameters of its Ed25519-signed handshake Interest.
type ClientHello struct {
	// EphemeralPub is the client's ephemeral X25519 public key.
	EphemeralPub [32]byte
}

// ServerHello is the service's half of the handshake, carried as the Content
// of its Ed25519-signed reply Data.
type ServerHello struct {
	// EphemeralPub is the service's ephemeral X25519 public key.
	EphemeralPub [32]byte
	// SessionID names the session; it is random and unique per service.
	SessionID [16]byte
	// Lifetime is how long the session lasts from the handshake. It travels
	// in whole milliseconds, so Encode truncates it; ServerAccept only
	// produces lifetimes of at least 1 ms, whole milliseconds.
	Lifetime time.Duration
}

// Encode returns the TLV encoding of h: A0 22 | A2 20 <32 bytes>. The
// result is fresh; the caller owns it.
func (h ClientHello) Encode() []byte {
	b := make([]byte, 0, 36)
	b = append(b, TypeClientHello, 34, TypeEphemeralPub, 32)
	return append(b, h.EphemeralPub[:]...)
}

// Encode returns the TLV encoding of h:
//
//	A1 L | A2 20 <32 bytes> | A3 10 <16 bytes> | A4 n <lifetime ms>
//
// A Lifetime under 1 ms encodes as 0, which DecodeServerHello rejects. The
// result is fresh; the caller owns it.
func (h ServerHello) Encode() []byte {
	ms := uint64(0)
	if h.Lifetime > 0 {
		ms = uint64(h.Lifetime / time.Millisecond)
	}
	n := nniLen(ms)
	inner := 2 + 32 + 2 + 16 + 2 + n
	b := make([]byte, 0, 2+inner)
	b = append(b, TypeServerHello, byte(inner), TypeEphemeralPub, 32)
	b = append(b, h.EphemeralPub[:]...)
	b = append(b, TypeSessionID, 16)
	b = append(b, h.SessionID[:]...)
	b = append(b, TypeLifetime, byte(n))
	return appendNNI(b, ms)
}

// DecodeClientHello parses the exact encoding Encode produces. Anything else —
// another outer type, unknown or missing fields, wrong lengths, non-minimal
// TLV numbers, trailing bytes — returns an error wrapping ErrMalformed. It
// never panics and does not retain b.
func DecodeClientHello(b []byte) (ClientHello, error) {
	var h ClientHello
	body, err := outer(b, TypeClientHello)
	if err != nil {
		return h, err
	}
	v, body, err := field(body, TypeEphemeralPub, 32)
	if err != nil {
		return h, err
	}
	copy(h.EphemeralPub[:], v)
	if len(body) != 0 {
		return h, fmt.Errorf("%w: unexpected field after EphemeralPub", ErrMalformed)
	}
	return h, nil
}

// DecodeServerHello parses the exact encoding Encode produces, with a
// Lifetime of 1 ms to about 292 years. Anything else returns an error
// wrapping ErrMalformed. It never panics and does not retain b.
func DecodeServerHello(b []byte) (ServerHello, error) {
	var h ServerHello
	body, err := outer(b, TypeServerHello)
	if err != nil {
		return h, err
	}
	v, body, err := field(body, TypeEphemeralPub, 32)
	if err != nil {
		return h, err
	}
	copy(h.EphemeralPub[:], v)
	if v, body, err = field(body, TypeSessionID, 16); err != nil {
		return h, err
	}
	copy(h.SessionID[:], v)
	if v, body, err = field(body, TypeLifetime, -1); err != nil {
		return h, err
	}
	ms, err := readNNI(v)
	if err != nil {
		return h, err
	}
	if ms == 0 || ms > uint64(maxLifetimeMs) {
		return h, fmt.Errorf("%w: lifetime %d ms out of range", ErrMalformed, ms)
	}
	h.Lifetime = time.Duration(ms) * time.Millisecond
	if len(body) != 0 {
		return h, fmt.Errorf("%w: unexpected field after Lifetime", ErrMalformed)
	}
	return h, nil
}

// outer checks that b is exactly one TLV of type typ and returns its value.
func outer(b []byte, typ uint64) ([]byte, error) {
	t, v, rest, err := readTLV(b)
	if err != nil {
		return nil, err
	}
	if t != typ {
		return nil, fmt.Errorf("%w: type %#x, want %#x", ErrMalformed, t, typ)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(rest))
	}
	return v, nil
}

// field reads the next TLV from b, which must have type typ and, if size >= 0,
// exactly size bytes of value.
func field(b []byte, typ uint64, size int) (val, rest []byte, err error) {
	t, v, rest, err := readTLV(b)
	if err != nil {
		return nil, nil, err
	}
	if t != typ {
		return nil, nil, fmt.Errorf("%w: field type %#x, want %#x", ErrMalformed, t, typ)
	}
	if size >= 0 && len(v) != size {
		return nil, nil, fmt.Errorf("%w: field %#x is %d bytes, want %d", ErrMalformed, t, len(v), size)
	}
	return v, rest, nil
}

// readTLV splits one TLV off b. Type and length are NDN VAR-NUMBERs in their
// shortest form.
func readTLV(b []byte) (typ uint64, val, rest []byte, err error) {
	typ, b, err = readVarNum(b)
	if err != nil {
		return 0, nil, nil, err
	}
	n, b, err := readVarNum(b)
	if err != nil {
		return 0, nil, nil, err
	}
	if n > uint64(len(b)) {
		return 0, nil, nil, fmt.Errorf("%w: length %d exceeds the %d bytes left", ErrMalformed, n, len(b))
	}
	return typ, b[:n], b[n:], nil
}

// readVarNum reads an NDN VAR-NUMBER and rejects non-shortest encodings, so
// that every message has exactly one encoding and round-trips byte for byte.
func readVarNum(b []byte) (uint64, []byte, error) {
	if len(b) == 0 {
		return 0, nil, fmt.Errorf("%w: truncated", ErrMalformed)
	}
	var size int
	var min uint64
	switch b[0] {
	case 253:
		size, min = 2, 253
	case 254:
		size, min = 4, 1<<16
	case 255:
		size, min = 8, 1<<32
	default:
		return uint64(b[0]), b[1:], nil
	}
	if len(b) < 1+size {
		return 0, nil, fmt.Errorf("%w: truncated", ErrMalformed)
	}
	var v uint64
	for _, c := range b[1 : 1+size] {
		v = v<<8 | uint64(c)
	}
	if v < min {
		return 0, nil, fmt.Errorf("%w: non-minimal number encoding", ErrMalformed)
	}
	return v, b[1+size:], nil
}

// readNNI reads an NDN NonNegativeInteger (1, 2, 4 or 8 bytes, big endian),
// shortest form only.
func readNNI(v []byte) (uint64, error) {
	var x uint64
	switch len(v) {
	case 1:
		return uint64(v[0]), nil
	case 2:
		x = uint64(binary.BigEndian.Uint16(v))
	case 4:
		x = uint64(binary.BigEndian.Uint32(v))
	case 8:
		x = binary.BigEndian.Uint64(v)
	default:
		return 0, fmt.Errorf("%w: integer of %d bytes", ErrMalformed, len(v))
	}
	if nniLen(x) != len(v) {
		return 0, fmt.Errorf("%w: non-minimal integer encoding", ErrMalformed)
	}
	return x, nil
}

// nniLen is the length of x's shortest NonNegativeInteger encoding.
func nniLen(x uint64) int {
	switch {
	case x <= math.MaxUint8:
		return 1
	case x <= math.MaxUint16:
		return 2
	case x <= math.MaxUint32:
		return 4
	}
	return 8
}

func appendNNI(b []byte, x uint64) []byte {
	switch nniLen(x) {
	case 1:
		return append(b, byte(x))
	case 2:
		return binary.BigEndian.AppendUint16(b, uint16(x))
	case 4:
		return binary.BigEndian.AppendUint32(b, uint32(x))
	}
	return binary.BigEndian.AppendUint64(b, x)
}
