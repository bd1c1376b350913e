package session

import (
	"crypto/ed25519"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	"github.com/named-data/ndnd/std/types/optional"
)

// fixedSig is a parsed signature for benchmarks: an Interest signature with
// the given value, KeyLocator and SeqNum.
type fixedSig struct {
	key   enc.Name
	value []byte
	seq   uint64
}

func (f *fixedSig) SigType() ndn.SigType { return ndn.SignatureHmacWithSha256 }
func (f *fixedSig) KeyName() enc.Name    { return f.key }
func (f *fixedSig) SigValue() []byte     { return f.value }
func (f *fixedSig) SigNonce() []byte     { return []byte("12345678") }
func (f *fixedSig) SigTime() *time.Time  { return nil }
func (f *fixedSig) SigSeqNum() *uint64   { return &f.seq }
func (f *fixedSig) Validity() (optional.Optional[time.Time], optional.Optional[time.Time]) {
	return optional.None[time.Time](), optional.None[time.Time]()
}

// covered150 is a typical signed portion: name, parameters and
// InterestSignatureInfo of a small call.
var covered150 = enc.Wire{make([]byte, 150)}

// BenchmarkSignVerifyHMAC is one session call's signature work: the client
// signs 150 bytes, the service verifies them (MAC and replay window).
func BenchmarkSignVerifyHMAC(b *testing.B) {
	cli, srv := pair(b)
	signer := cli.Signer()
	sig := &fixedSig{key: srv.name}
	b.ReportAllocs()
	for b.Loop() {
		v, err := signer.Sign(covered150)
		if err != nil {
			b.Fatal(err)
		}
		sig.value, sig.seq = v, cli.NextSeq()
		if err := srv.VerifyInterest(t0, covered150, sig); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignVerifyEd25519 is the same work with Ed25519, what every call
// costs without a session.
func BenchmarkSignVerifyEd25519(b *testing.B) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		b.Fatal(err)
	}
	msg := covered150.Join()
	b.ReportAllocs()
	for b.Loop() {
		sig := ed25519.Sign(priv, msg)
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("verify failed")
		}
	}
}

// BenchmarkHandshake is the key agreement of one session, both sides (the
// Ed25519 signatures of the two hello packets come on top).
func BenchmarkHandshake(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		hs, ch, err := ClientStart(nil)
		if err != nil {
			b.Fatal(err)
		}
		sk, sh, err := ServerAccept(nil, ch, t0, time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		ck, err := hs.Finish(sh, t0)
		if err != nil {
			b.Fatal(err)
		}
		ck.Erase()
		sk.Erase()
	}
}

// BenchmarkSealOpen1KiB seals and opens a 1 KiB payload.
func BenchmarkSealOpen1KiB(b *testing.B) {
	cli, srv := pair(b)
	aad := []byte("/example/svc/echo")
	pt := make([]byte, 1024)
	b.SetBytes(int64(len(pt)))
	b.ReportAllocs()
	for b.Loop() {
		sealed, err := cli.Seal(aad, pt, cli.NextSeq())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := srv.Open(aad, sealed); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSessionInterest is a whole session call through ndnd: encode and
// sign the Interest, decode it, verify it.
func BenchmarkSessionInterest(b *testing.B) {
	cli, srv := pair(b)
	params := make([]byte, 64)
	b.ReportAllocs()
	for b.Loop() {
		c := makeCall(b, cli, cli.NextSeq(), params)
		if err := srv.VerifyInterest(t0, c.covered, c.sig); err != nil {
			b.Fatal(err)
		}
	}
}
