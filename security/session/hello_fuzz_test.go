package session

import (
	"bytes"
	"testing"
	"time"
)

// FuzzDecodeClientHello checks that DecodeClientHello never panics and that
// every input it accepts re-encodes to the same bytes (one encoding per
// message).
func FuzzDecodeClientHello(f *testing.F) {
	f.Add(ClientHello{}.Encode())
	f.Add(ClientHello{EphemeralPub: [32]byte{1, 2, 3}}.Encode())
	f.Add([]byte{0xa0, 0xfd, 0x00, 0x22})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := DecodeClientHello(b)
		if err != nil {
			return
		}
		if enc := h.Encode(); !bytes.Equal(enc, b) {
			t.Fatalf("round trip: decoded %x, re-encoded %x", b, enc)
		}
	})
}

// FuzzDecodeServerHello checks that DecodeServerHello never panics, that
// every input it accepts re-encodes to the same bytes, and that the lifetime
// it returns is positive and whole milliseconds.
func FuzzDecodeServerHello(f *testing.F) {
	for _, d := range []time.Duration{time.Millisecond, time.Hour, 1 << 40 * time.Millisecond} {
		f.Add(ServerHello{EphemeralPub: [32]byte{9}, SessionID: [16]byte{7}, Lifetime: d}.Encode())
	}
	f.Add([]byte{0xa1, 0x01, 0xa4})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := DecodeServerHello(b)
		if err != nil {
			return
		}
		if h.Lifetime <= 0 || h.Lifetime%time.Millisecond != 0 {
			t.Fatalf("decoded lifetime %v", h.Lifetime)
		}
		if enc := h.Encode(); !bytes.Equal(enc, b) {
			t.Fatalf("round trip: decoded %x, re-encoded %x", b, enc)
		}
	})
}
