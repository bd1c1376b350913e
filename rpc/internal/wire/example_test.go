package wire

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
)

// TestWorkedExample pins the hex examples printed in docs/PROTOCOL.md
// ("Worked example"); if it fails, fix the document along with the code.
func TestWorkedExample(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		enc  func() []byte
		want string
	}{
		{"signed request", (&Request{
			Payload: str(`{"a":1,"b":2}`), ContentType: "json",
			RequestID:   h(t, "8f1e2d3c4b5a69788796a5b4c3d2e1f0"),
			Timeout:     2500 * time.Millisecond,
			TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
			Metadata:    []MD{{"tenant", str("acme")}},
		}).Encode, `80 74
			81 0d 7b2261223a312c2262223a327d
			82 04 6a736f6e
			83 10 8f1e2d3c4b5a69788796a5b4c3d2e1f0
			84 02 09c4
			85 37 30302d34626639326633353737623334646136613363653932396430653065343733362d303066303637616130626139303262372d3031
			86 0e 87 06 74656e616e74 88 04 61636d65`},
		{"public request", (&Request{Payload: str(`{"a":1,"b":2}`), ContentType: "json"}).Encode,
			`80 15 81 0d 7b2261223a312c2262223a327d 82 04 6a736f6e`},
		{"OK response", (&Response{Payload: str(`{"sum":3}`), ContentType: "json"}).Encode,
			`90 11 81 09 7b2273756d223a337d 82 04 6a736f6e`},
		{"error response", (&Response{Status: 5, Message: "no such key"}).Encode,
			`90 10 91 01 05 92 0b 6e6f2073756368206b6579`},
		{"large reply", (&Response{ContentType: "json", Continuation: name(t, "/example/calc/_obj/sum/v=1"), Kind: KindObject}).Encode,
			`90 2a 82 04 6a736f6e
			93 1f 07 1d 08 07 6578616d706c65 08 04 63616c63 08 04 5f6f626a 08 03 73756d 36 01 01
			95 01 01`},
	}
	for _, tc := range tests {
		if got, want := tc.enc(), h(t, tc.want); !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %x\nwant %x", tc.name, got, want)
		}
	}

	// The public call's name ends with params-sha256 = SHA-256 of the
	// ApplicationParameters element (type 0x24) holding the Request.
	req := (&Request{Payload: str(`{"a":1,"b":2}`), ContentType: "json"}).Encode()
	ap := append([]byte{0x24, byte(len(req))}, req...)
	sum := sha256.Sum256(ap)
	if got, want := hex.EncodeToString(sum[:]), publicDigest; got != want {
		t.Errorf("params-sha256 = %s, want %s", got, want)
	}

	// ndnd, expressing the same call, must name it the same way.
	i, err := spec.Spec{}.MakeInterest(name(t, "/example/calc/sum"), &ndn.InterestConfig{MustBeFresh: true},
		enc.Wire{req}, nil)
	if err != nil {
		t.Fatal(err)
	}
	last := i.FinalName.At(-1)
	if last.Typ != enc.TypeParametersSha256DigestComponent || hex.EncodeToString(last.Val) != publicDigest {
		t.Errorf("ndnd names the call %s, want .../params-sha256=%s", i.FinalName, publicDigest)
	}
	if got, want := i.FinalName.String(), "/example/calc/sum/params-sha256="+publicDigest; got != want {
		t.Errorf("name = %s, want %s", got, want)
	}
}

const publicDigest = "fdf48dbea8a3b6c8ed9623e39f44c730d1e328dcd439d2a9c925cb9312198ccb"
