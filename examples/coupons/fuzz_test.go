package coupons_test

import (
	"testing"

	"github.com/ndn-invoke/ndn-invoke/examples/coupons"
)

// FuzzDecodeEvent: no panic on any payload, and an accepted event
// round-trips through EncodeEvent.
func FuzzDecodeEvent(f *testing.F) {
	for _, s := range []string{`{"user":"alice"}`, `{"user":""}`, `{"user":"zoë","x":[1]}`, `null`, `{"user":1}`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		user, err := coupons.DecodeEvent(b)
		if err != nil {
			return
		}
		w, err := coupons.EncodeEvent(user)
		if err != nil {
			t.Fatalf("decoded %q but cannot encode it: %v", user, err)
		}
		again, err := coupons.DecodeEvent(w)
		if err != nil || again != user {
			t.Fatalf("round trip %q -> %q, %v", user, again, err)
		}
	})
}
