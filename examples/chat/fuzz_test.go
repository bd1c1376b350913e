package chat_test

import (
	"errors"
	"testing"

	"github.com/ndn-invoke/ndn-invoke/examples/chat"
)

// FuzzDecode: Decode never panics, fails only with ErrBadMessage, and what
// it accepts encodes back to a payload that decodes the same.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{`{"nick":"alice","text":"hi"}`, `{"nick":"b","text":""}`, `{}`, `[1]`, `{"nick":"\u00e9","text":"\ud800"}`, ""} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		nick, text, err := chat.Decode(b)
		if err != nil {
			if !errors.Is(err, chat.ErrBadMessage) {
				t.Fatalf("error %v does not wrap ErrBadMessage", err)
			}
			return
		}
		again, err := chat.Encode(nick, text)
		if err != nil {
			t.Fatalf("Decode accepted %q (%q, %q) but Encode refuses: %v", b, nick, text, err)
		}
		n2, t2, err := chat.Decode(again)
		if err != nil || n2 != nick || t2 != text {
			t.Fatalf("round trip of %q: %q %q %v", b, n2, t2, err)
		}
	})
}
