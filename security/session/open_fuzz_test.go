package session

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// FuzzOpen feeds arbitrary sealed payloads and associated data to Open. It
// must never panic, must fail with ErrOpen on anything but a genuine
// payload, and a genuine one must open to its plaintext.
func FuzzOpen(f *testing.F) {
	ck, sk, sh := handshake(f, testRand(7), time.Hour)
	name := Name(svcPrefix, sh.SessionID)
	cli, err := New(RoleClient, name, ck)
	if err != nil {
		f.Fatal(err)
	}
	srv, err := New(RoleServer, name, sk)
	if err != nil {
		f.Fatal(err)
	}
	aad := []byte("/example/svc/echo")
	genuine := make(map[string]string)
	for i, pt := range []string{"", "x", "hello world", string(bytes.Repeat([]byte{1}, 300))} {
		sealed, err := cli.Seal(aad, []byte(pt), uint64(i+1))
		if err != nil {
			f.Fatal(err)
		}
		genuine[string(sealed)] = pt
		f.Add(aad, sealed)
	}
	f.Add([]byte{}, []byte{})
	f.Add(aad, make([]byte, SealOverhead))
	f.Fuzz(func(t *testing.T, a, sealed []byte) {
		pt, err := srv.Open(a, sealed)
		want, ok := genuine[string(sealed)]
		if ok && bytes.Equal(a, aad) {
			if err != nil || string(pt) != want {
				t.Fatalf("genuine payload: %q, %v", pt, err)
			}
			return
		}
		if !errors.Is(err, ErrOpen) || pt != nil {
			t.Fatalf("Open(%x, %x) = %x, %v; want ErrOpen", a, sealed, pt, err)
		}
	})
}
