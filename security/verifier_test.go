package security

import (
	"context"
	"crypto/elliptic"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	sec "github.com/named-data/ndnd/std/security"
	sig "github.com/named-data/ndnd/std/security/signer"
	"github.com/named-data/ndnd/std/types/optional"
	"go.uber.org/goleak"
)

// testT0 is the wall clock of most tests: certificates are issued around it
// and verifiers and signers read it, so nothing depends on the real time.
var testT0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

func mustName(t testing.TB, s string) enc.Name {
	t.Helper()
	n, err := enc.NameFromStr(s)
	if err != nil {
		t.Fatalf("NameFromStr(%q): %v", s, err)
	}
	return n
}

// validAround is a validity period of a day around testT0.
var validAround = &IssueConfig{NotBefore: testT0.Add(-12 * time.Hour), NotAfter: testT0.Add(12 * time.Hour)}

func testAnchor(t testing.TB, name string) *Identity {
	t.Helper()
	a, err := NewSelfSigned(mustName(t, name), validAround)
	if err != nil {
		t.Fatalf("NewSelfSigned(%s): %v", name, err)
	}
	return a
}

func testIssue(t testing.TB, issuer *Identity, name string, cfg *IssueConfig) *Identity {
	t.Helper()
	if cfg == nil {
		cfg = validAround
	}
	id, err := issuer.IssueWith(mustName(t, name), cfg)
	if err != nil {
		t.Fatalf("IssueWith(%s): %v", name, err)
	}
	return id
}

// certNet is a map-backed CertFetcher that counts fetches and can be told to
// block until released.
type certNet struct {
	mu     sync.Mutex
	certs  [][]byte
	calls  atomic.Int64
	gate   chan struct{} // if non-nil, FetchCert waits for it
	called chan struct{} // if non-nil, FetchCert signals each call
}

func newCertNet(ids ...*Identity) *certNet {
	n := &certNet{}
	for _, id := range ids {
		n.add(id.CertWire())
	}
	return n
}

func (n *certNet) add(w []byte) {
	n.mu.Lock()
	n.certs = append(n.certs, w)
	n.mu.Unlock()
}

func (n *certNet) FetchCert(ctx context.Context, name enc.Name) ([]byte, error) {
	n.calls.Add(1)
	if n.called != nil {
		n.called <- struct{}{}
	}
	if n.gate != nil {
		select {
		case <-n.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, w := range n.certs {
		d, _, err := spec.Spec{}.ReadData(enc.NewBufferView(w))
		if err == nil && name.IsPrefix(d.Name()) {
			return w, nil
		}
	}
	return nil, fmt.Errorf("no certificate under %s", name)
}

func newTestVerifier(t testing.TB, cfg VerifierConfig, anchors ...*Identity) *Verifier {
	t.Helper()
	for _, a := range anchors {
		cfg.Anchors = append(cfg.Anchors, a.CertWire())
	}
	if cfg.Now == nil {
		cfg.Now = fixedClock(testT0)
	}
	v, err := NewVerifier(cfg)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

func newTestSigner(t testing.TB, s ndn.Signer, now time.Time) *InterestSigner {
	t.Helper()
	is, err := NewInterestSignerConfig(InterestSignerConfig{Signer: s, Now: fixedClock(now)})
	if err != nil {
		t.Fatalf("NewInterestSignerConfig: %v", err)
	}
	return is
}

// signed is a signed Interest as a receiver sees it.
type signed struct {
	wire    []byte
	in      ndn.Interest
	covered enc.Wire
}

func parseInterest(t testing.TB, wire []byte) signed {
	t.Helper()
	in, covered, err := spec.Spec{}.ReadInterest(enc.NewBufferView(wire))
	if err != nil {
		t.Fatalf("ReadInterest: %v", err)
	}
	return signed{wire: wire, in: in, covered: covered}
}

func signInterest(t testing.TB, s *InterestSigner, name string, params string) signed {
	t.Helper()
	ei, err := s.MakeInterest(mustName(t, name), &ndn.InterestConfig{Lifetime: optional.Some(4 * time.Second)}, enc.Wire{[]byte(params)})
	if err != nil {
		t.Fatalf("MakeInterest: %v", err)
	}
	return parseInterest(t, ei.Wire.Join())
}

// mangleSigner signs like its embedded signer, then passes the signature
// through mangle: a forger that knows the key name but not the key.
type mangleSigner struct {
	ndn.Signer
	mangle func([]byte) []byte
}

func (m mangleSigner) Sign(w enc.Wire) ([]byte, error) {
	s, err := m.Signer.Sign(w)
	if err != nil {
		return nil, err
	}
	return m.mangle(s), nil
}

// makeRaw encodes an Interest with explicit signature fields and signer.
func makeRaw(t testing.TB, name string, params []byte, s ndn.Signer, cfg ndn.InterestConfig) signed {
	t.Helper()
	var app enc.Wire
	if params != nil {
		app = enc.Wire{params}
	}
	ei, err := spec.Spec{}.MakeInterest(mustName(t, name), &cfg, app, s)
	if err != nil {
		t.Fatalf("MakeInterest: %v", err)
	}
	return parseInterest(t, ei.Wire.Join())
}

func checkErr(t *testing.T, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("err = %v, want nil", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
	if !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("err = %v does not match ErrUnauthenticated", err)
	}
}

func TestVerifyInterest(t *testing.T) {
	anchor := testAnchor(t, "/example")
	org := testIssue(t, anchor, "/example/org", nil)
	user := testIssue(t, org, "/example/org/alice", nil)
	direct := testIssue(t, anchor, "/example/bob", nil)
	other := testAnchor(t, "/other")
	stranger := testIssue(t, other, "/example/eve", nil)
	self := testAnchor(t, "/example/mallory")
	expired := testIssue(t, anchor, "/example/old", &IssueConfig{NotBefore: testT0.Add(-48 * time.Hour), NotAfter: testT0.Add(-time.Minute)})
	early := testIssue(t, anchor, "/example/early", &IssueConfig{NotBefore: testT0.Add(time.Hour), NotAfter: testT0.Add(2 * time.Hour)})
	staleOrg := testIssue(t, anchor, "/example/stale", &IssueConfig{NotBefore: testT0.Add(-48 * time.Hour), NotAfter: testT0.Add(-time.Hour)})
	staleUser := testIssue(t, staleOrg, "/example/stale/carol", &IssueConfig{NotBefore: testT0.Add(-47 * time.Hour), NotAfter: testT0.Add(time.Hour)})
	all := newCertNet(anchor, org, user, direct, other, stranger, self, expired, early, staleOrg, staleUser)

	flip := func(b []byte) []byte { b[len(b)/2] ^= 0x01; return b }
	validCfg := func(s *InterestSigner) ndn.InterestConfig {
		var c ndn.InterestConfig
		if err := s.Prepare(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}

	tests := []struct {
		name    string
		pkt     func(t *testing.T) signed
		now     time.Time // verifier clock; zero means testT0
		fetch   bool      // use the map-backed fetcher
		want    error
		wantKey enc.Name
	}{
		{"direct", func(t *testing.T) signed {
			return signInterest(t, newTestSigner(t, direct.Signer(), testT0), "/svc/m", "p")
		}, time.Time{}, true, nil, direct.KeyName()},
		{"intermediate chain", func(t *testing.T) signed {
			return signInterest(t, newTestSigner(t, user.Signer(), testT0), "/svc/m", "p")
		}, time.Time{}, true, nil, user.KeyName()},
		{"forged signature", func(t *testing.T) signed {
			return signInterest(t, newTestSigner(t, mangleSigner{user.Signer(), flip}, testT0), "/svc/m", "p")
		}, time.Time{}, true, ErrBadSignature, nil},
		{"wrong key, right KeyLocator", func(t *testing.T) signed {
			k, _ := sig.KeygenEd25519(user.KeyName())
			return signInterest(t, newTestSigner(t, k, testT0), "/svc/m", "p")
		}, time.Time{}, true, ErrBadSignature, nil},
		{"tampered parameters", func(t *testing.T) signed {
			s := newTestSigner(t, user.Signer(), testT0)
			cfg := validCfg(s)
			good := makeRaw(t, "/svc/m", []byte("pay 1"), user.Signer(), cfg)
			stolen := good.in.Signature().SigValue()
			// Same SignatureInfo and signature, other parameters; the
			// digest component is recomputed, as anyone can.
			return makeRaw(t, "/svc/m", []byte("pay 1000"), mangleSigner{user.Signer(), func([]byte) []byte { return stolen }}, cfg)
		}, time.Time{}, true, ErrBadSignature, nil},
		{"unknown issuer", func(t *testing.T) signed {
			return signInterest(t, newTestSigner(t, stranger.Signer(), testT0), "/svc/m", "p")
		}, time.Time{}, true, ErrUnknownIssuer, nil},
		{"unknown issuer, no fetcher", func(t *testing.T) signed {
			return signInterest(t, newTestSigner(t, stranger.Signer(), testT0), "/svc/m", "p")
		}, time.Time{}, false, ErrUnknownIssuer, nil},
		{"self-signed, not an anchor", func(t *testing.T) signed {
			return signInterest(t, newTestSigner(t, self.Signer(), testT0), "/svc/m", "p")
		}, time.Time{}, true, ErrUnknownIssuer, nil},
		{"expired certificate", func(t *testing.T) signed {
			return signInterest(t, newTestSigner(t, expired.Signer(), testT0), "/svc/m", "p")
		}, time.Time{}, true, ErrCertExpired, nil},
		{"certificate not yet valid", func(t *testing.T) signed {
			return signInterest(t, newTestSigner(t, early.Signer(), testT0), "/svc/m", "p")
		}, time.Time{}, true, ErrCertExpired, nil},
		{"expired intermediate", func(t *testing.T) signed {
			return signInterest(t, newTestSigner(t, staleUser.Signer(), testT0), "/svc/m", "p")
		}, time.Time{}, true, ErrCertExpired, nil},
		{"expired anchor", func(t *testing.T) signed {
			return signInterest(t, newTestSigner(t, anchor.Signer(), testT0.Add(13*time.Hour)), "/svc/m", "p")
		}, testT0.Add(13 * time.Hour), true, ErrCertExpired, nil},
		{"time skew", func(t *testing.T) signed {
			return signInterest(t, newTestSigner(t, user.Signer(), testT0), "/svc/m", "p")
		}, testT0.Add(10 * time.Minute), true, ErrTimeSkew, nil},
		{"no signature time", func(t *testing.T) signed {
			return makeRaw(t, "/svc/m", []byte("p"), user.Signer(), ndn.InterestConfig{SigNonce: []byte{1, 2, 3, 4, 5, 6, 7, 8}})
		}, time.Time{}, true, ErrTimeSkew, nil},
		{"no signature nonce", func(t *testing.T) signed {
			return makeRaw(t, "/svc/m", []byte("p"), user.Signer(), ndn.InterestConfig{SigTime: optional.Some(time.Duration(testT0.UnixMilli()) * time.Millisecond)})
		}, time.Time{}, true, ErrReplay, nil},
		{"unsigned", func(t *testing.T) signed {
			return makeRaw(t, "/svc/m", nil, nil, ndn.InterestConfig{})
		}, time.Time{}, true, ErrNoSignature, nil},
		{"unsigned with parameters", func(t *testing.T) signed {
			return makeRaw(t, "/svc/m", []byte("p"), nil, ndn.InterestConfig{})
		}, time.Time{}, true, ErrNoSignature, nil},
		{"DigestSha256", func(t *testing.T) signed {
			return makeRaw(t, "/svc/m", []byte("p"), sig.NewSha256Signer(), ndn.InterestConfig{})
		}, time.Time{}, true, ErrNoSignature, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := VerifierConfig{Now: fixedClock(testT0)}
			if !tc.now.IsZero() {
				cfg.Now = fixedClock(tc.now)
			}
			if tc.fetch {
				cfg.Fetch = all
			}
			v := newTestVerifier(t, cfg, anchor)
			p := tc.pkt(t)
			key, err := v.VerifyInterest(context.Background(), p.in, p.covered)
			checkErr(t, err, tc.want)
			if tc.want == nil && !key.Equal(tc.wantKey) {
				t.Fatalf("caller = %s, want %s", key, tc.wantKey)
			}
		})
	}
}

func TestVerifyInterestReplay(t *testing.T) {
	anchor := testAnchor(t, "/example")
	user := testIssue(t, anchor, "/example/alice", nil)
	v := newTestVerifier(t, VerifierConfig{Fetch: newCertNet(user)}, anchor)
	s := newTestSigner(t, user.Signer(), testT0)
	p := signInterest(t, s, "/svc/m", "p")
	if _, err := v.VerifyInterest(context.Background(), p.in, p.covered); err != nil {
		t.Fatalf("first: %v", err)
	}
	// The same wire again, as an attacker replaying it would send it.
	again := parseInterest(t, p.wire)
	_, err := v.VerifyInterest(context.Background(), again.in, again.covered)
	checkErr(t, err, ErrReplay)
	// A fresh Interest from the same signer is fine.
	q := signInterest(t, s, "/svc/m", "p")
	if _, err := v.VerifyInterest(context.Background(), q.in, q.covered); err != nil {
		t.Fatalf("fresh: %v", err)
	}
}

func TestVerifyInterestSeqNum(t *testing.T) {
	anchor := testAnchor(t, "/example")
	user := testIssue(t, anchor, "/example/alice", nil)
	v := newTestVerifier(t, VerifierConfig{Fetch: newCertNet(user), Replay: ReplayConfig{RequireSeqNum: true}}, anchor)
	plain := newTestSigner(t, user.Signer(), testT0)
	p := signInterest(t, plain, "/svc/m", "p")
	_, err := v.VerifyInterest(context.Background(), p.in, p.covered)
	checkErr(t, err, ErrReplay)

	s, err := NewInterestSignerConfig(InterestSignerConfig{Signer: user.Signer(), Now: fixedClock(testT0), SeqNum: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		p := signInterest(t, s, "/svc/m", "p")
		if got := p.in.Signature().SigSeqNum(); got == nil || *got != uint64(i) {
			t.Fatalf("SigSeqNum = %v, want %d", got, i)
		}
		if _, err := v.VerifyInterest(context.Background(), p.in, p.covered); err != nil {
			t.Fatalf("seq %d: %v", i, err)
		}
	}
}

// TestVerifyInterestMismatchedCovered passes a signed portion that belongs to
// another Interest: the signature is valid for it, but not for this Interest.
func TestVerifyInterestMismatchedCovered(t *testing.T) {
	anchor := testAnchor(t, "/example")
	user := testIssue(t, anchor, "/example/alice", nil)
	v := newTestVerifier(t, VerifierConfig{Fetch: newCertNet(user)}, anchor)
	s := newTestSigner(t, user.Signer(), testT0)
	a := signInterest(t, s, "/svc/a", "p")
	b := signInterest(t, s, "/svc/b", "q")
	c := signInterest(t, s, "/svc/a", "other")
	d := signInterest(t, s, "/svc/a", "p")
	for _, tc := range []struct {
		name    string
		in      ndn.Interest
		covered enc.Wire
	}{
		{"other name", a.in, b.covered},
		{"other parameters", a.in, c.covered},
		{"other signature info", d.in, a.covered},
		{"nil covered", a.in, nil},
		{"truncated covered", a.in, enc.Wire{a.covered.Join()[:5]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.VerifyInterest(context.Background(), tc.in, tc.covered)
			checkErr(t, err, ErrBadSignature)
		})
	}
}

// TestVerifyInterestKeyTypes checks ECDSA and RSA keys and certificates, in
// both directions of the chain.
func TestVerifyInterestKeyTypes(t *testing.T) {
	anchor := testAnchor(t, "/example")
	ecc, err := sig.KeygenEcc(sec.MakeKeyName(mustName(t, "/example/ecc")), elliptic.P256())
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := sig.KeygenRsa(sec.MakeKeyName(mustName(t, "/example/rsa")), 2048)
	if err != nil {
		t.Fatal(err)
	}
	net := newCertNet()
	var ids []*Identity
	for _, k := range []ndn.Signer{ecc, rsaKey} {
		kd, err := sig.MarshalSecretToData(k)
		if err != nil {
			t.Fatal(err)
		}
		cw, err := anchor.signCert(kd, validAround)
		if err != nil {
			t.Fatal(err)
		}
		id, err := NewIdentity(k, cw)
		if err != nil {
			t.Fatal(err)
		}
		net.add(cw)
		ids = append(ids, id)
	}
	// An Ed25519 user certified by the ECDSA identity.
	leaf := testIssue(t, ids[0], "/example/ecc/leaf", nil)
	net.add(leaf.CertWire())
	ids = append(ids, leaf)

	v := newTestVerifier(t, VerifierConfig{Fetch: net}, anchor)
	for _, id := range ids {
		p := signInterest(t, newTestSigner(t, id.Signer(), testT0), "/svc/m", "p")
		key, err := v.VerifyInterest(context.Background(), p.in, p.covered)
		if err != nil {
			t.Fatalf("%s: %v", id.KeyName(), err)
		}
		if !key.Equal(id.KeyName()) {
			t.Fatalf("caller = %s, want %s", key, id.KeyName())
		}
	}
}

func TestVerifierAddCertAndCache(t *testing.T) {
	anchor := testAnchor(t, "/example")
	org := testIssue(t, anchor, "/example/org", nil)
	user := testIssue(t, org, "/example/org/alice", nil)
	v := newTestVerifier(t, VerifierConfig{}, anchor) // no fetcher
	s := newTestSigner(t, user.Signer(), testT0)

	p := signInterest(t, s, "/svc/m", "p")
	_, err := v.VerifyInterest(context.Background(), p.in, p.covered)
	checkErr(t, err, ErrUnknownIssuer)

	for _, id := range []*Identity{org, user} {
		if err := v.AddCert(id.CertWire()); err != nil {
			t.Fatalf("AddCert: %v", err)
		}
	}
	if err := v.AddCert([]byte("junk")); !errors.Is(err, ErrInvalidCert) {
		t.Fatalf("AddCert(junk) = %v, want ErrInvalidCert", err)
	}
	p = signInterest(t, s, "/svc/m", "p")
	if _, err := v.VerifyInterest(context.Background(), p.in, p.covered); err != nil {
		t.Fatalf("after AddCert: %v", err)
	}
	if trusted, added := v.CacheLen(); trusted != 2 || added != 2 {
		t.Fatalf("CacheLen = %d, %d; want 2, 2", trusted, added)
	}
}

func TestVerifierFetchesOnce(t *testing.T) {
	anchor := testAnchor(t, "/example")
	org := testIssue(t, anchor, "/example/org", nil)
	user := testIssue(t, org, "/example/org/alice", nil)
	net := newCertNet(org, user)
	v := newTestVerifier(t, VerifierConfig{Fetch: net}, anchor)
	s := newTestSigner(t, user.Signer(), testT0)
	for i := range 5 {
		p := signInterest(t, s, "/svc/m", "p")
		if _, err := v.VerifyInterest(context.Background(), p.in, p.covered); err != nil {
			t.Fatalf("%d: %v", i, err)
		}
	}
	if n := net.calls.Load(); n != 2 {
		t.Fatalf("fetched %d times, want 2 (user and org certificates once)", n)
	}
}

// TestVerifierCachedCertExpires checks that a cached certificate stops
// vouching once it (or its issuer) expires.
func TestVerifierCachedCertExpires(t *testing.T) {
	anchor := testAnchor(t, "/example")
	org := testIssue(t, anchor, "/example/org", &IssueConfig{NotBefore: testT0.Add(-time.Hour), NotAfter: testT0.Add(time.Hour)})
	user := testIssue(t, org, "/example/org/alice", nil) // outlives org
	var now atomic.Int64
	now.Store(testT0.UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	for _, fetch := range []bool{false, true} {
		t.Run(fmt.Sprintf("fetch=%v", fetch), func(t *testing.T) {
			now.Store(testT0.UnixNano())
			cfg := VerifierConfig{Now: clock}
			if fetch {
				cfg.Fetch = newCertNet(org, user)
			}
			v := newTestVerifier(t, cfg, anchor)
			if !fetch {
				_ = v.AddCert(user.CertWire())
				_ = v.AddCert(org.CertWire())
			}
			s, _ := NewInterestSignerConfig(InterestSignerConfig{Signer: user.Signer(), Now: clock})
			p := signInterest(t, s, "/svc/m", "p")
			if _, err := v.VerifyInterest(context.Background(), p.in, p.covered); err != nil {
				t.Fatal(err)
			}
			now.Store(testT0.Add(2 * time.Hour).UnixNano())
			p = signInterest(t, s, "/svc/m", "p")
			_, err := v.VerifyInterest(context.Background(), p.in, p.covered)
			checkErr(t, err, ErrCertExpired)
		})
	}
	t.Run("no source left", func(t *testing.T) {
		now.Store(testT0.UnixNano())
		v := newTestVerifier(t, VerifierConfig{Now: clock, Fetch: newCertNet(org, user)}, anchor)
		s, _ := NewInterestSignerConfig(InterestSignerConfig{Signer: user.Signer(), Now: clock})
		p := signInterest(t, s, "/svc/m", "p")
		if _, err := v.VerifyInterest(context.Background(), p.in, p.covered); err != nil {
			t.Fatal(err)
		}
		v.fetch = nil // the cached chain is all it knows
		now.Store(testT0.Add(2 * time.Hour).UnixNano())
		p = signInterest(t, s, "/svc/m", "p")
		_, err := v.VerifyInterest(context.Background(), p.in, p.covered)
		checkErr(t, err, ErrCertExpired)
	})
}

func TestVerifierChainLimits(t *testing.T) {
	anchor := testAnchor(t, "/example")
	a := testIssue(t, anchor, "/example/a", nil)
	b := testIssue(t, a, "/example/a/b", nil)
	c := testIssue(t, b, "/example/a/b/c", nil)
	outside := testIssue(t, a, "/elsewhere/d", nil)
	net := newCertNet(a, b, c, outside)

	t.Run("depth", func(t *testing.T) {
		v := newTestVerifier(t, VerifierConfig{Fetch: net, MaxChainDepth: 2}, anchor)
		p := signInterest(t, newTestSigner(t, c.Signer(), testT0), "/svc/m", "p")
		_, err := v.VerifyInterest(context.Background(), p.in, p.covered)
		checkErr(t, err, ErrUnknownIssuer)
		p = signInterest(t, newTestSigner(t, b.Signer(), testT0), "/svc/m", "p")
		if _, err := v.VerifyInterest(context.Background(), p.in, p.covered); err != nil {
			t.Fatalf("depth 2: %v", err)
		}
	})
	t.Run("hierarchy", func(t *testing.T) {
		v := newTestVerifier(t, VerifierConfig{Fetch: net, RequireHierarchy: true}, anchor)
		p := signInterest(t, newTestSigner(t, outside.Signer(), testT0), "/svc/m", "p")
		_, err := v.VerifyInterest(context.Background(), p.in, p.covered)
		checkErr(t, err, ErrUnknownIssuer)
		p = signInterest(t, newTestSigner(t, c.Signer(), testT0), "/svc/m", "p")
		if _, err := v.VerifyInterest(context.Background(), p.in, p.covered); err != nil {
			t.Fatalf("inside: %v", err)
		}
		// Without the option, the anchor vouches for any name.
		v = newTestVerifier(t, VerifierConfig{Fetch: net}, anchor)
		p = signInterest(t, newTestSigner(t, outside.Signer(), testT0), "/svc/m", "p")
		if _, err := v.VerifyInterest(context.Background(), p.in, p.covered); err != nil {
			t.Fatalf("no hierarchy: %v", err)
		}
	})
	t.Run("loop", func(t *testing.T) {
		// Two certificates for keys x and y, each signed by the other.
		kx, _ := sig.KeygenEd25519(sec.MakeKeyName(mustName(t, "/loop/x")))
		ky, _ := sig.KeygenEd25519(sec.MakeKeyName(mustName(t, "/loop/y")))
		cert := func(subject, issuer ndn.Signer) []byte {
			d, _ := sig.MarshalSecretToData(subject)
			w, err := sec.SignCert(sec.SignCertArgs{Signer: issuer, Data: d, IssuerId: enc.NewGenericComponent("NA"),
				NotBefore: validAround.NotBefore, NotAfter: validAround.NotAfter})
			if err != nil {
				t.Fatal(err)
			}
			return w.Join()
		}
		ln := newCertNet()
		ln.add(cert(kx, ky))
		ln.add(cert(ky, kx))
		v := newTestVerifier(t, VerifierConfig{Fetch: ln}, anchor)
		p := signInterest(t, newTestSigner(t, kx, testT0), "/svc/m", "p")
		_, err := v.VerifyInterest(context.Background(), p.in, p.covered)
		checkErr(t, err, ErrUnknownIssuer)
	})
	t.Run("fetched wrong certificate", func(t *testing.T) {
		wrong := CertFetcherFunc(func(context.Context, enc.Name) ([]byte, error) { return a.CertWire(), nil })
		v := newTestVerifier(t, VerifierConfig{Fetch: wrong}, anchor)
		p := signInterest(t, newTestSigner(t, b.Signer(), testT0), "/svc/m", "p")
		_, err := v.VerifyInterest(context.Background(), p.in, p.covered)
		checkErr(t, err, ErrUnknownIssuer)
	})
	t.Run("fetched junk", func(t *testing.T) {
		junk := CertFetcherFunc(func(context.Context, enc.Name) ([]byte, error) { return []byte{0x06, 0x01, 0x00}, nil })
		v := newTestVerifier(t, VerifierConfig{Fetch: junk}, anchor)
		p := signInterest(t, newTestSigner(t, b.Signer(), testT0), "/svc/m", "p")
		_, err := v.VerifyInterest(context.Background(), p.in, p.covered)
		checkErr(t, err, ErrUnknownIssuer)
	})
	t.Run("forged intermediate", func(t *testing.T) {
		// A certificate for a's key name and key, signed by someone else
		// who claims to be the anchor.
		fake, _ := sig.KeygenEd25519(anchor.KeyName())
		d, _, _ := spec.Spec{}.ReadData(enc.NewBufferView(a.CertWire()))
		w, err := sec.SignCert(sec.SignCertArgs{Signer: fake, Data: d, IssuerId: enc.NewGenericComponent("NA"),
			NotBefore: validAround.NotBefore, NotAfter: validAround.NotAfter})
		if err != nil {
			t.Fatal(err)
		}
		fn := newCertNet(b)
		fn.add(w.Join())
		v := newTestVerifier(t, VerifierConfig{Fetch: fn}, anchor)
		p := signInterest(t, newTestSigner(t, b.Signer(), testT0), "/svc/m", "p")
		_, err = v.VerifyInterest(context.Background(), p.in, p.covered)
		checkErr(t, err, ErrBadSignature)
	})
}

func TestVerifierMaxCerts(t *testing.T) {
	anchor := testAnchor(t, "/example")
	net := newCertNet()
	var users []*Identity
	for i := range 6 {
		u := testIssue(t, anchor, fmt.Sprintf("/example/u%d", i), nil)
		net.add(u.CertWire())
		users = append(users, u)
	}
	v := newTestVerifier(t, VerifierConfig{Fetch: net, MaxCerts: 2}, anchor)
	for _, u := range users {
		p := signInterest(t, newTestSigner(t, u.Signer(), testT0), "/svc/m", "p")
		if _, err := v.VerifyInterest(context.Background(), p.in, p.covered); err != nil {
			t.Fatal(err)
		}
		if n, _ := v.CacheLen(); n > 2 {
			t.Fatalf("%d certificates cached, max 2", n)
		}
		if err := v.AddCert(u.CertWire()); err != nil {
			t.Fatal(err)
		}
		if _, n := v.CacheLen(); n > 2 {
			t.Fatalf("%d certificates added, max 2", n)
		}
	}
}

// TestVerifierConcurrentFetch verifies many Interests from one new key at
// once: the certificate is fetched once and every verification succeeds.
func TestVerifierConcurrentFetch(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	anchor := testAnchor(t, "/example")
	user := testIssue(t, anchor, "/example/alice", nil)
	net := newCertNet(user)
	net.gate = make(chan struct{})
	net.called = make(chan struct{}, 100)
	v := newTestVerifier(t, VerifierConfig{Fetch: net}, anchor)
	s := newTestSigner(t, user.Signer(), testT0)
	const n = 20
	pkts := make([]signed, n)
	for i := range pkts {
		pkts[i] = signInterest(t, s, "/svc/m", "p")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for _, p := range pkts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := v.VerifyInterest(ctx, p.in, p.covered)
			errs <- err
		}()
	}
	<-net.called // one fetch is in progress; the rest wait for it or start it
	close(net.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if c := net.calls.Load(); c != 1 {
		// A verification that reached the fetch after the first finished
		// finds the certificate cached, so there is never a second one.
		t.Fatalf("fetched %d times, want 1", c)
	}
}

func TestVerifierFetchCanceled(t *testing.T) {
	anchor := testAnchor(t, "/example")
	user := testIssue(t, anchor, "/example/alice", nil)
	net := newCertNet(user)
	net.gate = make(chan struct{}) // never opened
	v := newTestVerifier(t, VerifierConfig{Fetch: net}, anchor)
	p := signInterest(t, newTestSigner(t, user.Signer(), testT0), "/svc/m", "p")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := v.VerifyInterest(ctx, p.in, p.covered)
	checkErr(t, err, ErrUnknownIssuer)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want it to wrap context.Canceled", err)
	}
	// The failed fetch left nothing behind: a live ctx succeeds.
	net.gate = nil
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	if _, err := v.VerifyInterest(ctx2, p.in, p.covered); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyData(t *testing.T) {
	anchor := testAnchor(t, "/example")
	svc := testIssue(t, anchor, "/example/calc", nil)
	v := newTestVerifier(t, VerifierConfig{Fetch: newCertNet(svc)}, anchor)
	makeData := func(s ndn.Signer, content string) (ndn.Data, enc.Wire) {
		w, err := spec.Spec{}.MakeData(mustName(t, "/example/calc/add/x"), &ndn.DataConfig{}, enc.Wire{[]byte(content)}, s)
		if err != nil {
			t.Fatal(err)
		}
		d, covered, err := spec.Spec{}.ReadData(enc.NewWireView(w.Wire))
		if err != nil {
			t.Fatal(err)
		}
		return d, covered
	}
	d, covered := makeData(svc.Signer(), "42")
	key, err := v.VerifyData(context.Background(), d, covered)
	if err != nil || !key.Equal(svc.KeyName()) {
		t.Fatalf("VerifyData = %s, %v; want %s", key, err, svc.KeyName())
	}
	// Data can be verified any number of times.
	if _, err := v.VerifyData(context.Background(), d, covered); err != nil {
		t.Fatalf("again: %v", err)
	}

	d2, covered2 := makeData(svc.Signer(), "41")
	_, err = v.VerifyData(context.Background(), d, covered2)
	checkErr(t, err, ErrBadSignature)
	_, err = v.VerifyData(context.Background(), d2, enc.Wire{covered.Join()[:4]})
	checkErr(t, err, ErrBadSignature)

	forged, fc := makeData(mangleSigner{svc.Signer(), func(b []byte) []byte { b[0] ^= 1; return b }}, "42")
	_, err = v.VerifyData(context.Background(), forged, fc)
	checkErr(t, err, ErrBadSignature)

	dd, dc := makeData(sig.NewSha256Signer(), "42")
	_, err = v.VerifyData(context.Background(), dd, dc)
	checkErr(t, err, ErrNoSignature)
	nd, nc := makeData(nil, "42")
	_, err = v.VerifyData(context.Background(), nd, nc)
	checkErr(t, err, ErrNoSignature)

	// A certificate is Data too; an expired one is refused as such.
	old := testIssue(t, anchor, "/example/old", &IssueConfig{NotBefore: testT0.Add(-2 * time.Hour), NotAfter: testT0.Add(-time.Hour)})
	cd, cc, _ := spec.Spec{}.ReadData(enc.NewBufferView(old.CertWire()))
	_, err = v.VerifyData(context.Background(), cd, cc)
	checkErr(t, err, ErrCertExpired)
	cd, cc, _ = spec.Spec{}.ReadData(enc.NewBufferView(svc.CertWire()))
	if _, err := v.VerifyData(context.Background(), cd, cc); err != nil {
		t.Fatalf("certificate as Data: %v", err)
	}
}

func TestVerifierConfigValidate(t *testing.T) {
	anchor := testAnchor(t, "/example")
	aw := [][]byte{anchor.CertWire()}
	tests := []struct {
		name string
		cfg  VerifierConfig
		ok   bool
	}{
		{"minimal", VerifierConfig{Anchors: aw}, true},
		{"defaults", func() VerifierConfig { c := DefaultVerifierConfig(); c.Anchors = aw; return c }(), true},
		{"no anchors", VerifierConfig{}, false},
		{"junk anchor", VerifierConfig{Anchors: [][]byte{{1, 2, 3}}}, false},
		{"key as anchor", VerifierConfig{Anchors: [][]byte{func() []byte {
			w, _ := sig.MarshalSecret(anchor.Signer())
			return w.Join()
		}()}}, false},
		{"negative MaxCerts", VerifierConfig{Anchors: aw, MaxCerts: -1}, false},
		{"negative depth", VerifierConfig{Anchors: aw, MaxChainDepth: -1}, false},
		{"bad replay", VerifierConfig{Anchors: aw, Replay: ReplayConfig{GracePeriod: -1}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate = %v, want ok=%v", err, tc.ok)
			}
			v, err2 := NewVerifier(tc.cfg)
			if (err2 == nil) != tc.ok || (v != nil) != tc.ok {
				t.Fatalf("NewVerifier = %v, %v; want ok=%v", v, err2, tc.ok)
			}
		})
	}
}

func TestVerifierAnchorsCopy(t *testing.T) {
	anchor := testAnchor(t, "/example")
	v := newTestVerifier(t, VerifierConfig{}, anchor)
	got := v.Anchors()
	if len(got) != 1 || string(got[0]) != string(anchor.CertWire()) {
		t.Fatal("Anchors does not return the anchor")
	}
	got[0][0] ^= 0xff
	if string(v.Anchors()[0]) != string(anchor.CertWire()) {
		t.Fatal("Anchors returned the Verifier's own slice")
	}
}

func TestNewTrustConfig(t *testing.T) {
	anchor, err := NewAnchor(mustName(t, "/example"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	org, err := anchor.Issue(mustName(t, "/example/org"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	user, err := org.Issue(mustName(t, "/example/org/alice"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	stranger, _ := testAnchor(t, "/other").Issue(mustName(t, "/other/x"), time.Hour)
	tc, kc, err := NewTrustConfig([][]byte{anchor.CertWire()})
	if err != nil {
		t.Fatal(err)
	}
	net := map[string][]byte{}
	for _, id := range []*Identity{org, user, stranger} {
		net[id.KeyName().String()] = id.CertWire()
	}
	fetch := func(name enc.Name, _ *ndn.InterestConfig, cb ndn.ExpressCallbackFunc) {
		w, _ := kc.Store().Get(name, true)
		if w == nil {
			w = net[name.String()]
		}
		if w == nil {
			cb(ndn.ExpressCallbackArgs{Result: ndn.InterestResultNack})
			return
		}
		d, covered, err := spec.Spec{}.ReadData(enc.NewBufferView(w))
		cb(ndn.ExpressCallbackArgs{Result: ndn.InterestResultData, Data: d, RawData: enc.Wire{w}, SigCovered: covered, Error: err})
	}
	validate := func(signer *Identity) error {
		w, err := spec.Spec{}.MakeData(mustName(t, "/example/data/1"), &ndn.DataConfig{}, enc.Wire{[]byte("x")}, signer.Signer())
		if err != nil {
			t.Fatal(err)
		}
		d, covered, err := spec.Spec{}.ReadData(enc.NewWireView(w.Wire))
		if err != nil {
			t.Fatal(err)
		}
		res := make(chan error, 1)
		tc.Validate(sec.TrustConfigValidateArgs{Data: d, DataSigCov: covered, Fetch: fetch,
			Callback: func(ok bool, err error) {
				if ok && err == nil {
					res <- nil
				} else {
					res <- fmt.Errorf("invalid: %w", err)
				}
			}})
		select {
		case err := <-res:
			return err
		case <-time.After(5 * time.Second):
			t.Fatal("TrustConfig.Validate did not call back")
			return nil
		}
	}
	if err := validate(user); err != nil {
		t.Fatalf("user: %v", err)
	}
	if err := validate(stranger); err == nil {
		t.Fatal("stranger validated")
	}

	if _, _, err := NewTrustConfig(nil); err == nil {
		t.Fatal("NewTrustConfig(nil) succeeded")
	}
	old, _ := NewSelfSigned(mustName(t, "/old"), &IssueConfig{NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
	if _, _, err := NewTrustConfig([][]byte{old.CertWire()}); !errors.Is(err, ErrCertExpired) {
		t.Fatalf("expired anchor: err = %v, want ErrCertExpired", err)
	}
}

func TestInterestSignerMonotonic(t *testing.T) {
	anchor := testAnchor(t, "/example")
	// A clock that never moves: SignatureTime stays at it (never runs
	// ahead), sequence numbers still increase.
	s, err := NewInterestSignerConfig(InterestSignerConfig{Signer: anchor.Signer(), Now: fixedClock(testT0), SeqNum: true})
	if err != nil {
		t.Fatal(err)
	}
	const goroutines, each = 8, 200
	type stamp struct {
		t   time.Duration
		seq uint64
	}
	out := make([][]stamp, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				var c ndn.InterestConfig
				if err := s.Prepare(&c); err != nil {
					t.Error(err)
					return
				}
				if len(c.SigNonce) != DefaultNonceSize {
					t.Errorf("nonce of %d bytes", len(c.SigNonce))
				}
				out[g] = append(out[g], stamp{c.SigTime.Unwrap(), c.SigSeqNo.Unwrap()})
			}
		}()
	}
	wg.Wait()
	times := map[time.Duration]bool{}
	seqs := map[uint64]bool{}
	for _, st := range out {
		for i, x := range st {
			if i > 0 && (x.t < st[i-1].t || x.seq <= st[i-1].seq) {
				t.Fatalf("time went back or seq did not increase within a goroutine: %v after %v", x, st[i-1])
			}
			if x.t < time.Duration(testT0.UnixMilli())*time.Millisecond || x.t%time.Millisecond != 0 {
				t.Fatalf("SignatureTime %v not whole ms at or after the clock", x.t)
			}
			times[x.t], seqs[x.seq] = true, true
		}
	}
	if len(times) != 1 || len(seqs) != goroutines*each {
		t.Fatalf("%d distinct times (want 1: the clock never moved) and %d sequence numbers, want %d", len(times), len(seqs), goroutines*each)
	}
}

// TestInterestSignerNoDrift: at any call rate SignatureTime stays at the
// clock, so a busy signer never leaves verifiers' grace period. (A strictly
// increasing time ran 1 ms ahead per call: above 1000 calls/s it drifted
// past the 60 s grace period after about a minute of load.)
func TestInterestSignerNoDrift(t *testing.T) {
	anchor := testAnchor(t, "/example")
	s, _ := NewInterestSignerConfig(InterestSignerConfig{Signer: anchor.Signer(), Now: fixedClock(testT0)})
	var c ndn.InterestConfig
	for range 100000 {
		_ = s.Prepare(&c)
	}
	if got := c.SigTime.Unwrap(); got != time.Duration(testT0.UnixMilli())*time.Millisecond {
		t.Fatalf("after 100000 calls in one millisecond SignatureTime is %v ahead of the clock", got-time.Duration(testT0.UnixMilli())*time.Millisecond)
	}
}

func TestInterestSignerClockBack(t *testing.T) {
	anchor := testAnchor(t, "/example")
	now := testT0
	s, _ := NewInterestSignerConfig(InterestSignerConfig{Signer: anchor.Signer(), Now: func() time.Time { return now }})
	var a, b, c ndn.InterestConfig
	_ = s.Prepare(&a)
	now = now.Add(-time.Hour) // the wall clock steps back
	_ = s.Prepare(&b)
	now = testT0.Add(time.Second)
	_ = s.Prepare(&c)
	if !(a.SigTime.Unwrap() <= b.SigTime.Unwrap() && b.SigTime.Unwrap() < c.SigTime.Unwrap()) {
		t.Fatalf("times %v %v %v went back", a.SigTime, b.SigTime, c.SigTime)
	}
	if c.SigTime.Unwrap() != time.Duration(testT0.Add(time.Second).UnixMilli())*time.Millisecond {
		t.Fatalf("time %v does not follow the clock once it is ahead again", c.SigTime)
	}
}

func TestInterestSignerConfigValidate(t *testing.T) {
	anchor := testAnchor(t, "/example")
	tests := []struct {
		name string
		cfg  InterestSignerConfig
		ok   bool
	}{
		{"ok", InterestSignerConfig{Signer: anchor.Signer()}, true},
		{"nonce 64", InterestSignerConfig{Signer: anchor.Signer(), NonceSize: 64}, true},
		{"nil signer", InterestSignerConfig{}, false},
		{"digest signer", InterestSignerConfig{Signer: sig.NewSha256Signer()}, false},
		{"nonce too long", InterestSignerConfig{Signer: anchor.Signer(), NonceSize: 65}, false},
		{"negative nonce", InterestSignerConfig{Signer: anchor.Signer(), NonceSize: -1}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewInterestSignerConfig(tc.cfg)
			if (err == nil) != tc.ok || (s != nil) != tc.ok {
				t.Fatalf("NewInterestSignerConfig = %v, %v; want ok=%v", s, err, tc.ok)
			}
		})
	}
}

func TestInterestSignerMakeInterest(t *testing.T) {
	anchor, err := NewAnchor(mustName(t, "/example"), time.Hour) // real clock, as NewInterestSigner's
	if err != nil {
		t.Fatal(err)
	}
	s := NewInterestSigner(anchor)
	name := mustName(t, "/svc/m")
	// Room in the backing array, as ndnd's Append leaves it.
	name = name.Append(enc.NewGenericComponent("x"))[:2]
	cfg := &ndn.InterestConfig{MustBeFresh: true}
	ei, err := s.MakeInterest(name, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SigNonce != nil || cfg.SigTime.IsSet() {
		t.Fatal("MakeInterest modified the caller's config")
	}
	if full := name[:cap(name)][2]; full.Typ != enc.TypeGenericNameComponent || string(full.Val) != "x" {
		t.Fatalf("MakeInterest wrote %v into the caller's name", full)
	}
	p := parseInterest(t, ei.Wire.Join())
	if p.in.AppParam() == nil || len(p.in.AppParam().Join()) != 0 {
		t.Fatalf("nil parameters sent as %v, want empty ApplicationParameters", p.in.AppParam())
	}
	if !p.in.MustBeFresh() || !p.in.Signature().KeyName().Equal(anchor.KeyName()) {
		t.Fatal("Interest lost its settings or KeyLocator")
	}
	if got := len(p.in.Signature().SigNonce()); got != DefaultNonceSize {
		t.Fatalf("nonce of %d bytes", got)
	}
	v := newTestVerifier(t, VerifierConfig{Now: time.Now}, anchor)
	if _, err := v.VerifyInterest(context.Background(), p.in, p.covered); err != nil {
		t.Fatalf("anchor-signed Interest: %v", err)
	}
}

func BenchmarkVerifyInterest(b *testing.B) {
	anchor := testAnchor(b, "/example")
	user := testIssue(b, anchor, "/example/alice", nil)
	v := newTestVerifier(b, VerifierConfig{Fetch: newCertNet(user), Replay: ReplayConfig{GracePeriod: 1000 * time.Hour}}, anchor)
	s := newTestSigner(b, user.Signer(), testT0)
	warm := signInterest(b, s, "/svc/m", "p")
	if _, err := v.VerifyInterest(context.Background(), warm.in, warm.covered); err != nil {
		b.Fatal(err)
	}
	pkts := make([]signed, b.N)
	for i := range pkts {
		pkts[i] = signInterest(b, s, "/example/calc/add", "0123456789abcdef0123456789abcdef")
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := v.VerifyInterest(ctx, pkts[i].in, pkts[i].covered); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignInterest(b *testing.B) {
	anchor := testAnchor(b, "/example")
	user := testIssue(b, anchor, "/example/alice", nil)
	s := NewInterestSigner(user)
	name := mustName(b, "/example/calc/add")
	params := enc.Wire{[]byte("0123456789abcdef0123456789abcdef")}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.MakeInterest(name, &ndn.InterestConfig{}, params); err != nil {
			b.Fatal(err)
		}
	}
}
