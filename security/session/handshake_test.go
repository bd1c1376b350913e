package session

import (
	"bytes"
	"errors"
	"io"
	mrand "math/rand/v2"
	"testing"
	"time"
)

// t0 is the clock at the start of every test.
var t0 = time.UnixMilli(1_700_000_000_000)

// testRand returns a deterministic random source for a test.
func testRand(seed byte) io.Reader {
	var s [32]byte
	s[0] = seed
	return mrand.NewChaCha8(s)
}

// handshake runs a full handshake and returns both sides' keys.
func handshake(t testing.TB, rnd io.Reader, lifetime time.Duration) (client, server *Keys, sh ServerHello) {
	t.Helper()
	hs, ch, err := ClientStart(rnd)
	if err != nil {
		t.Fatal(err)
	}
	// Through the wire encoding, as the rpc layer would.
	ch2, err := DecodeClientHello(ch.Encode())
	if err != nil {
		t.Fatal(err)
	}
	server, sh, err = ServerAccept(rnd, ch2, t0, lifetime)
	if err != nil {
		t.Fatal(err)
	}
	sh2, err := DecodeServerHello(sh.Encode())
	if err != nil {
		t.Fatal(err)
	}
	client, err = hs.Finish(sh2, t0)
	if err != nil {
		t.Fatal(err)
	}
	return client, server, sh
}

func TestHandshakeKeysAgree(t *testing.T) {
	c, s, sh := handshake(t, nil, 0)
	if *c != *s {
		t.Fatalf("client and server keys differ:\n%+v\n%+v", c, s)
	}
	if c.SessionID != sh.SessionID || c.SessionID == ([16]byte{}) {
		t.Fatalf("session id %x, hello %x", c.SessionID, sh.SessionID)
	}
	if sh.Lifetime != DefaultLifetime || !c.Expires.Equal(t0.Add(DefaultLifetime)) {
		t.Fatalf("lifetime %v, expires %v", sh.Lifetime, c.Expires)
	}
	keys := [][32]byte{c.ClientMAC, c.ServerMAC, c.ClientSeal, c.ServerSeal}
	for i := range keys {
		if keys[i] == ([32]byte{}) {
			t.Fatalf("key %d is zero", i)
		}
		for j := range i {
			if keys[i] == keys[j] {
				t.Fatalf("keys %d and %d are equal", i, j)
			}
		}
	}

	c2, _, _ := handshake(t, nil, 0)
	if c2.SessionID == c.SessionID || c2.ClientMAC == c.ClientMAC || c2.ServerSeal == c.ServerSeal {
		t.Fatal("two sessions share an id or a key")
	}
}

func TestHandshakeDeterministic(t *testing.T) {
	a, _, _ := handshake(t, testRand(1), time.Minute)
	b, _, _ := handshake(t, testRand(1), time.Minute)
	c, _, _ := handshake(t, testRand(2), time.Minute)
	if *a != *b {
		t.Fatal("same randomness gave different keys")
	}
	if a.ClientMAC == c.ClientMAC {
		t.Fatal("different randomness gave the same keys")
	}
}

// TestHandshakeTranscriptBound checks that changing any ServerHello field in
// flight (which the Ed25519 signature would catch too) changes the client's
// keys, so the session cannot work.
func TestHandshakeTranscriptBound(t *testing.T) {
	tamper := map[string]func(*ServerHello){
		"lifetime":   func(h *ServerHello) { h.Lifetime += time.Millisecond },
		"session id": func(h *ServerHello) { h.SessionID[0] ^= 1 },
		"key":        func(h *ServerHello) { h.EphemeralPub[5] ^= 1 },
	}
	for name, f := range tamper {
		t.Run(name, func(t *testing.T) {
			hs, ch, err := ClientStart(nil)
			if err != nil {
				t.Fatal(err)
			}
			sk, sh, err := ServerAccept(nil, ch, t0, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			f(&sh)
			ck, err := hs.Finish(sh, t0)
			if err != nil {
				t.Fatal(err)
			}
			if ck.ClientMAC == sk.ClientMAC || ck.ServerMAC == sk.ServerMAC || ck.ClientSeal == sk.ClientSeal {
				t.Fatal("tampered ServerHello still gives the server's keys")
			}
		})
	}
}

func TestHandshakeLowOrderPoint(t *testing.T) {
	// 0 and 1 are low-order points of Curve25519: the shared secret is 0.
	for _, p := range [][32]byte{{}, {1}} {
		if _, _, err := ServerAccept(nil, ClientHello{EphemeralPub: p}, t0, time.Hour); !errors.Is(err, ErrBadKeyShare) {
			t.Errorf("ServerAccept(pub %x) = %v, want ErrBadKeyShare", p[:1], err)
		}
		hs, _, err := ClientStart(nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := hs.Finish(ServerHello{EphemeralPub: p, Lifetime: time.Hour}, t0); !errors.Is(err, ErrBadKeyShare) {
			t.Errorf("Finish(pub %x) = %v, want ErrBadKeyShare", p[:1], err)
		}
	}
}

func TestFinishOnce(t *testing.T) {
	hs, ch, err := ClientStart(nil)
	if err != nil {
		t.Fatal(err)
	}
	if hs.Hello() != ch {
		t.Fatal("Hello() differs from the returned hello")
	}
	_, sh, err := ServerAccept(nil, ch, t0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hs.Finish(sh, t0); err != nil {
		t.Fatal(err)
	}
	if hs.priv != ([32]byte{}) {
		t.Fatal("ephemeral private key not erased after Finish")
	}
	if _, err := hs.Finish(sh, t0); !errors.Is(err, ErrHandshakeDone) {
		t.Fatalf("second Finish = %v, want ErrHandshakeDone", err)
	}

	hs2, _, _ := ClientStart(nil)
	if _, err := hs2.Finish(ServerHello{EphemeralPub: sh.EphemeralPub}, t0); !errors.Is(err, ErrMalformed) {
		t.Fatalf("Finish with zero lifetime = %v, want ErrMalformed", err)
	}
	if _, err := hs2.Finish(sh, t0); !errors.Is(err, ErrHandshakeDone) {
		t.Fatalf("Finish after a failed Finish = %v, want ErrHandshakeDone", err)
	}
	hs3, _, _ := ClientStart(nil)
	hs3.Erase()
	if _, err := hs3.Finish(sh, t0); !errors.Is(err, ErrHandshakeDone) {
		t.Fatalf("Finish after Erase = %v, want ErrHandshakeDone", err)
	}
}

func TestServerAcceptLifetime(t *testing.T) {
	_, ch, _ := ClientStart(nil)
	tests := []struct {
		in, want time.Duration
		wantErr  bool
	}{
		{in: 0, want: DefaultLifetime},
		{in: time.Minute + 1500*time.Microsecond, want: time.Minute + time.Millisecond},
		{in: time.Microsecond, wantErr: true},
		{in: -time.Second, wantErr: true},
	}
	for _, tt := range tests {
		k, sh, err := ServerAccept(nil, ch, t0, tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("lifetime %v accepted", tt.in)
			}
			continue
		}
		if err != nil || sh.Lifetime != tt.want || !k.Expires.Equal(t0.Add(tt.want)) {
			t.Errorf("lifetime %v: got %v, expires %v, %v; want %v", tt.in, sh.Lifetime, k.Expires, err, tt.want)
		}
	}
}

func TestHandshakeRandFailure(t *testing.T) {
	if _, _, err := ClientStart(bytes.NewReader(make([]byte, 10))); err == nil {
		t.Error("ClientStart with a short reader succeeded")
	}
	_, ch, _ := ClientStart(nil)
	if _, _, err := ServerAccept(bytes.NewReader(make([]byte, 40)), ch, t0, time.Hour); err == nil {
		t.Error("ServerAccept with a short reader succeeded")
	}
}

func TestKeysErase(t *testing.T) {
	k, _, _ := handshake(t, nil, 0)
	id := k.SessionID
	k.Erase()
	if k.ClientMAC != ([32]byte{}) || k.ServerMAC != ([32]byte{}) || k.ClientSeal != ([32]byte{}) || k.ServerSeal != ([32]byte{}) {
		t.Fatal("Erase left key material")
	}
	if k.SessionID != id {
		t.Fatal("Erase changed the session id")
	}
	(*Keys)(nil).Erase()
}
