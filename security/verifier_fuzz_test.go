package security

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	sec "github.com/named-data/ndnd/std/security"
	sig "github.com/named-data/ndnd/std/security/signer"
	"github.com/named-data/ndnd/std/types/optional"
)

// fuzzT0 is the clock of the fuzz verifier and signers.
var fuzzT0 = time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)

// fuzzKey is a deterministic Ed25519 key named /<id>/KEY/<label>, so that
// seeds (and corpus entries saved by earlier runs) are signed by the same keys
// in every run.
func fuzzKey(t testing.TB, id, label string) ndn.Signer {
	seed := sha256.Sum256([]byte("ndn-invoke fuzz " + label))
	name := mustName(t, id).Append(enc.NewGenericComponent("KEY"), enc.NewGenericComponent(label))
	return sig.NewEd25519Signer(name, ed25519.NewKeyFromSeed(seed[:]))
}

// fuzzPKI is a verifier with a real anchor plus the signed Interests the
// fuzz targets start from.
type fuzzPKI struct {
	v     *Verifier
	seeds [][]byte
	// legit holds signedPart of every seed: nothing else carries a valid
	// signature, since only this file holds the keys.
	legit map[string]bool
	// accepted holds key+nonce of every Interest VerifyInterest accepted.
	accepted map[string]bool
}

func newFuzzPKI(t testing.TB) *fuzzPKI {
	anchorKey := fuzzKey(t, "/fuzz", "anchor")
	period := sec.SignCertArgs{NotBefore: fuzzT0.Add(-time.Hour), NotAfter: fuzzT0.Add(time.Hour)}
	certify := func(subject, issuer ndn.Signer, self bool) []byte {
		a := period
		a.Signer = issuer
		var w enc.Wire
		var err error
		if self {
			a.IssuerId = enc.NewGenericComponent(SelfIssuerID)
			w, err = sec.SelfSign(a)
		} else {
			a.IssuerId = enc.NewGenericComponent(DefaultIssuerID)
			a.Data, err = sig.MarshalSecretToData(subject)
			if err == nil {
				w, err = sec.SignCert(a)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		return w.Join()
	}
	alice := fuzzKey(t, "/fuzz/alice", "alice")
	org := fuzzKey(t, "/fuzz/org", "org")
	bob := fuzzKey(t, "/fuzz/org/bob", "bob")
	net := newCertNet()
	net.add(certify(alice, anchorKey, false))
	net.add(certify(org, anchorKey, false))
	net.add(certify(bob, org, false))
	v, err := NewVerifier(VerifierConfig{
		Anchors: [][]byte{certify(anchorKey, anchorKey, true)},
		Fetch:   net,
		Now:     fixedClock(fuzzT0),
	})
	if err != nil {
		t.Fatal(err)
	}
	p := &fuzzPKI{v: v, legit: map[string]bool{}, accepted: map[string]bool{}}
	rng := rand.NewChaCha8(sha256.Sum256([]byte("nonces")))
	signer := func(k ndn.Signer, seq bool) *InterestSigner {
		s, err := NewInterestSignerConfig(InterestSignerConfig{Signer: k, Now: fixedClock(fuzzT0), Rand: rng, SeqNum: seq})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	hop := byte(4)
	add := func(s *InterestSigner, name string, cfg ndn.InterestConfig, params []byte) {
		ei, err := s.MakeInterest(mustName(t, name), &cfg, enc.Wire{params})
		if err != nil {
			t.Fatal(err)
		}
		w := ei.Wire.Join()
		in, _, err := spec.Spec{}.ReadInterest(enc.NewBufferView(w))
		if err != nil {
			t.Fatal(err)
		}
		p.seeds = append(p.seeds, w)
		p.legit[signedPart(in)] = true
	}
	sa, sb := signer(alice, false), signer(bob, true)
	add(sa, "/fuzz/calc/add", ndn.InterestConfig{}, []byte("1+2"))
	add(sa, "/fuzz/calc/add", ndn.InterestConfig{MustBeFresh: true, Lifetime: optional.Some(time.Second)}, nil)
	add(sb, "/fuzz/kv/bob/put", ndn.InterestConfig{CanBePrefix: true, HopLimit: &hop,
		ForwardingHint: []enc.Name{mustName(t, "/hint")}, Nonce: optional.Some[uint32](7)}, []byte(strings.Repeat("v", 300)))
	add(sb, "/fuzz/kv/bob/get", ndn.InterestConfig{}, []byte{0})
	return p
}

// signedPart is what an Interest's signature vouches for, as one string.
func signedPart(in ndn.Interest) string {
	s := in.Signature()
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%x|%d|%s|%x|%x", in.Name(), in.AppParam().Join(), s.SigType(), s.KeyName(), s.SigNonce(), s.SigValue())
	if t := s.SigTime(); t != nil {
		fmt.Fprintf(&b, "|t%d", t.UnixMilli())
	}
	if q := s.SigSeqNum(); q != nil {
		fmt.Fprintf(&b, "|q%d", *q)
	}
	return b.String()
}

// readInterest is ndnd's ReadInterest with its panics turned into errors:
// an Interest whose HopLimit element is empty and last makes it index an
// empty slice (std/ndn/spec_2022/zz_generated.go:2186, v1.5.3).
// Input that is not WellFormed is skipped, as ndn.Node's face drops it
// before ndnd parses it (a 9-byte memory bomb otherwise allocates 12 GiB
// and kills the fuzz worker).
func readInterest(b []byte) (in ndn.Interest, covered enc.Wire, err error) {
	if !WellFormed(b) {
		return nil, nil, fmt.Errorf("not well-formed")
	}
	defer func() {
		if r := recover(); r != nil {
			in, covered, err = nil, nil, fmt.Errorf("ndnd ReadInterest panicked: %v", r)
		}
	}()
	return spec.Spec{}.ReadInterest(enc.NewBufferView(b))
}

// TestFuzzSeedsVerify checks that the fuzz seeds are valid, so the fuzz
// target starts from Interests VerifyInterest accepts.
func TestFuzzSeedsVerify(t *testing.T) {
	p := newFuzzPKI(t)
	for i, w := range p.seeds {
		in, covered, err := readInterest(w)
		if err != nil {
			t.Fatalf("seed %d: %v", i, err)
		}
		if _, err := p.v.VerifyInterest(context.Background(), in, covered); err != nil {
			t.Fatalf("seed %d: %v", i, err)
		}
	}
}

// TestNdndHopLimitPanic pins the ndnd bug WellFormed and readInterest work
// around. When ndnd fixes it, this test says so.
func TestNdndHopLimitPanic(t *testing.T) {
	b := []byte{0x05, 0x07, 0x07, 0x03, 0x08, 0x01, 'a', 0x22, 0x00}
	if WellFormed(b) {
		t.Fatal("WellFormed must refuse an empty HopLimit")
	}
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panicked: %v", r)
			}
		}()
		_, _, err = spec.Spec{}.ReadInterest(enc.NewBufferView(b))
	}()
	if err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("ndnd no longer panics on an empty trailing HopLimit (err = %v): drop the recover in readInterest", err)
	}
}

// FuzzVerifyInterest feeds arbitrary packets through ndnd's ReadInterest and
// VerifyInterest on one verifier (per fuzz worker) that trusts a real anchor.
// It checks that nothing panics, that every rejection is ErrUnauthenticated,
// and that whatever is accepted carries exactly the signed portion of one of
// the seeds (name, parameters, SignatureInfo and signature), at most once per
// key and nonce. Fields v0.3 leaves unsigned (Nonce, InterestLifetime,
// HopLimit, CanBePrefix, MustBeFresh, ForwardingHint) may differ: a mutated
// copy of a seed is accepted if it arrives before the seed, and then the seed
// is a replay.
func FuzzVerifyInterest(f *testing.F) {
	p := newFuzzPKI(f)
	for _, w := range p.seeds {
		f.Add(w)
	}
	f.Add([]byte{0x05, 0x07, 0x07, 0x03, 0x08, 0x01, 'a', 0x22, 0x00}) // the ndnd HopLimit panic
	f.Add([]byte{0x05, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		in, covered, err := readInterest(b)
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		key, err := p.v.VerifyInterest(ctx, in, covered)
		if err != nil {
			if !errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("rejection %v does not match ErrUnauthenticated", err)
			}
			return
		}
		if !p.legit[signedPart(in)] {
			t.Fatalf("accepted an Interest no seed signed: %s", signedPart(in))
		}
		id := key.String() + "|" + string(in.Signature().SigNonce())
		if p.accepted[id] {
			t.Fatalf("accepted key %s nonce %x twice", key, in.Signature().SigNonce())
		}
		p.accepted[id] = true
	})
}

// FuzzDecodeCert feeds arbitrary bytes to every certificate decoder of this
// package: key/cert file decoding (DecodeFile, PEM, bare base64), certificate
// parsing, anchors, AddCert, VerifyData and SignCert. Nothing may panic, and a
// certificate that parses must be usable as an anchor and round-trip.
func FuzzDecodeCert(f *testing.F) {
	a := fuzzKey(f, "/fuzz", "anchor")
	anchorWire, err := sec.SelfSign(sec.SignCertArgs{Signer: a, NotBefore: fuzzT0.Add(-time.Hour), NotAfter: fuzzT0.Add(time.Hour)})
	if err != nil {
		f.Fatal(err)
	}
	aw := anchorWire.Join()
	ca, err := NewIdentity(a, aw)
	if err != nil {
		f.Fatal(err)
	}
	pemCert, _ := ca.CertPEM()
	kw, _ := sig.MarshalSecret(a)
	pemKey, _ := sec.PemEncode(kw.Join())
	f.Add(aw)
	f.Add(pemCert)
	f.Add(append(append([]byte{}, pemKey...), pemCert...))
	f.Add([]byte(base64.StdEncoding.EncodeToString(aw)))
	f.Add(kw.Join())
	f.Add([]byte("-----BEGIN NDN CERT-----\n\n-----END NDN CERT-----\n"))
	f.Add([]byte{0x06, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, certs, _ := decodeEntries(b)
		certs = append(certs, b)
		for _, w := range certs {
			ci, err := parseCert(w)
			if err != nil {
				if !errors.Is(err, ErrInvalidCert) {
					t.Fatalf("parseCert error %v is not ErrInvalidCert", err)
				}
				continue
			}
			again, err := parseCert(ci.wire)
			if err != nil || !again.name.Equal(ci.name) {
				t.Fatalf("parsed certificate does not parse again: %v", err)
			}
			v, err := NewVerifier(VerifierConfig{Anchors: [][]byte{w}, Now: fixedClock(fuzzT0)})
			if err != nil {
				t.Fatalf("parsed certificate refused as anchor: %v", err)
			}
			if err := v.AddCert(w); err != nil {
				t.Fatalf("parsed certificate refused by AddCert: %v", err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, err = v.VerifyData(ctx, ci.data, enc.Wire{ci.sigCovered})
			cancel()
			if err != nil && !errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("VerifyData error %v is not ErrUnauthenticated", err)
			}
		}
		_, _ = ca.SignCert(b, &IssueConfig{NotBefore: fuzzT0, Validity: time.Hour})
	})
}
