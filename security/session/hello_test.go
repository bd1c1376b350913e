package session

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

func hexBytes(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	pub32 = strings.Repeat("11", 32)
	id16  = strings.Repeat("22", 16)
)

// serverHelloHex builds a ServerHello encoding with the given Lifetime TLV
// (type, length and value, in hex).
func serverHelloHex(lifetimeTLV string) string {
	inner := "a220" + pub32 + "a310" + id16 + strings.ReplaceAll(lifetimeTLV, " ", "")
	return "a1" + hex.EncodeToString([]byte{byte(len(inner) / 2)}) + inner
}

func TestClientHelloCodec(t *testing.T) {
	valid := ClientHello{EphemeralPub: [32]byte(bytes.Repeat([]byte{0x11}, 32))}
	tests := []struct {
		name    string
		in      string
		want    ClientHello
		wantErr bool
	}{
		{name: "valid", in: "a022 a220" + pub32, want: valid},
		{name: "empty", in: "", wantErr: true},
		{name: "server type", in: "a122 a220" + pub32, wantErr: true},
		{name: "trailing byte", in: "a022 a220" + pub32 + "00", wantErr: true},
		{name: "trailing field", in: "a024 a220" + pub32 + "a300", wantErr: true},
		{name: "short key", in: "a021 a21f" + pub32[2:], wantErr: true},
		{name: "long key", in: "a023 a221" + pub32 + "11", wantErr: true},
		{name: "wrong field", in: "a022 a320" + pub32, wantErr: true},
		{name: "truncated", in: "a022 a220" + pub32[2:], wantErr: true},
		{name: "outer length too big", in: "a0ff", wantErr: true},
		{name: "non-minimal length", in: "a0fd0022 a220" + pub32, wantErr: true},
		{name: "non-minimal type", in: "fd00a0 22 a220" + pub32, wantErr: true},
		{name: "truncated varnum", in: "a0fd00", wantErr: true},
		{name: "empty value", in: "a000", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := hexBytes(t, tt.in)
			got, err := DecodeClientHello(in)
			if tt.wantErr {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("DecodeClientHello(%s) = %v, want ErrMalformed", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeClientHello(%s): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			if enc := got.Encode(); !bytes.Equal(enc, in) {
				t.Fatalf("Encode = %x, want %x", enc, in)
			}
		})
	}
}

func TestServerHelloCodec(t *testing.T) {
	base := ServerHello{
		EphemeralPub: [32]byte(bytes.Repeat([]byte{0x11}, 32)),
		SessionID:    [16]byte(bytes.Repeat([]byte{0x22}, 16)),
	}
	with := func(d time.Duration) ServerHello { h := base; h.Lifetime = d; return h }
	tests := []struct {
		name    string
		in      string
		want    ServerHello
		wantErr bool
	}{
		{name: "1ms", in: serverHelloHex("a401 01"), want: with(time.Millisecond)},
		{name: "255ms", in: serverHelloHex("a401 ff"), want: with(255 * time.Millisecond)},
		{name: "256ms", in: serverHelloHex("a402 0100"), want: with(256 * time.Millisecond)},
		{name: "1h", in: serverHelloHex("a404 0036ee80"), want: with(time.Hour)},
		{name: "2^32ms", in: serverHelloHex("a408 0000000100000000"), want: with(time.Duration(1<<32) * time.Millisecond)},
		{name: "max", in: serverHelloHex("a408 000008637bd05af6"), want: with(time.Duration(maxLifetimeMs) * time.Millisecond)},
		{name: "over max", in: serverHelloHex("a408 000008637bd05af7"), wantErr: true},
		{name: "zero lifetime", in: serverHelloHex("a401 00"), wantErr: true},
		{name: "empty lifetime", in: serverHelloHex("a400"), wantErr: true},
		{name: "3-byte lifetime", in: serverHelloHex("a403 010000"), wantErr: true},
		{name: "non-minimal lifetime", in: serverHelloHex("a402 00ff"), wantErr: true},
		{name: "non-minimal 4-byte", in: serverHelloHex("a404 0000ffff"), wantErr: true},
		{name: "non-minimal 8-byte", in: serverHelloHex("a408 00000000ffffffff"), wantErr: true},
		{name: "missing lifetime", in: "a136 a220" + pub32 + "a310" + id16, wantErr: true},
		{name: "extra field", in: serverHelloHex("a401 01 a401 01"), wantErr: true},
		{name: "fields swapped", in: "a139 a310" + id16 + "a220" + pub32 + "a40101", wantErr: true},
		{name: "short id", in: "a138 a220" + pub32 + "a30f" + id16[2:] + "a40101", wantErr: true},
		{name: "client type", in: "a0" + serverHelloHex("a401 01")[2:], wantErr: true},
		{name: "client hello", in: "a022 a220" + pub32, wantErr: true},
		{name: "trailing", in: serverHelloHex("a401 01") + "00", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := hexBytes(t, tt.in)
			got, err := DecodeServerHello(in)
			if tt.wantErr {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("DecodeServerHello(%s) = %+v, %v, want ErrMalformed", tt.in, got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeServerHello(%s): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			if enc := got.Encode(); !bytes.Equal(enc, in) {
				t.Fatalf("Encode = %x, want %x", enc, in)
			}
		})
	}
}

// TestServerHelloEncodeTruncates checks that a sub-millisecond part of
// Lifetime is dropped, and a lifetime under 1ms encodes to something the
// decoder refuses rather than to a session that never expires.
func TestServerHelloEncodeTruncates(t *testing.T) {
	h := ServerHello{Lifetime: 1500 * time.Microsecond}
	got, err := DecodeServerHello(h.Encode())
	if err != nil || got.Lifetime != time.Millisecond {
		t.Fatalf("1.5ms round trip = %v, %v; want 1ms", got.Lifetime, err)
	}
	for _, d := range []time.Duration{0, time.Microsecond, -time.Hour} {
		if _, err := DecodeServerHello(ServerHello{Lifetime: d}.Encode()); !errors.Is(err, ErrMalformed) {
			t.Errorf("Lifetime %v: decode err = %v, want ErrMalformed", d, err)
		}
	}
}
