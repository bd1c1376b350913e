package session

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/types/optional"

	"github.com/ndn-invoke/ndn-invoke/security"
)

var svcPrefix = mustName("/example/svc")

func mustName(s string) enc.Name {
	n, err := enc.NameFromStr(s)
	if err != nil {
		panic(err)
	}
	return n
}

// pair returns the two ends of a fresh session named under svcPrefix.
func pair(t testing.TB) (cli, srv *Session) {
	t.Helper()
	ck, sk, sh := handshake(t, nil, time.Hour)
	name := Name(svcPrefix, sh.SessionID)
	var err error
	if cli, err = New(RoleClient, name, ck); err != nil {
		t.Fatal(err)
	}
	if srv, err = New(RoleServer, name, sk); err != nil {
		t.Fatal(err)
	}
	return cli, srv
}

// call is a decoded signed Interest, as the service sees it.
type call struct {
	sig     ndn.Signature
	covered enc.Wire
	wire    []byte
}

// makeCall encodes an Interest signed by s with SignatureSeqNum seq and
// decodes it again through ndnd, as a service would receive it.
func makeCall(t testing.TB, s *Session, seq uint64, params []byte) call {
	t.Helper()
	c, err := tryMakeCall(s, seq, params)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// tryMakeCall is makeCall for goroutines other than the test's.
func tryMakeCall(s *Session, seq uint64, params []byte) (call, error) {
	cfg := &ndn.InterestConfig{
		SigNonce: []byte(fmt.Sprintf("nonce%03d", seq%1000)),
		SigTime:  optional.Some(time.Duration(t0.UnixMilli()) * time.Millisecond),
		SigSeqNo: optional.Some(seq),
	}
	ei, err := spec.Spec{}.MakeInterest(svcPrefix.Append(enc.NewGenericComponent("echo")), cfg, enc.Wire{params}, s.Signer())
	if err != nil {
		return call{}, err
	}
	b := ei.Wire.Join()
	in, covered, err := spec.Spec{}.ReadInterest(enc.NewBufferView(b))
	if err != nil {
		return call{}, err
	}
	return call{sig: in.Signature(), covered: covered, wire: b}, nil
}

func readCall(t testing.TB, b []byte) call {
	t.Helper()
	in, covered, err := spec.Spec{}.ReadInterest(enc.NewBufferView(b))
	if err != nil {
		t.Fatal(err)
	}
	return call{sig: in.Signature(), covered: covered, wire: b}
}

// forgedSig is a parsed signature with another SignatureValue.
type forgedSig struct {
	ndn.Signature
	value []byte
}

func (f forgedSig) SigValue() []byte { return f.value }

// makeReply encodes a Data signed by s and decodes it again.
func makeReply(t testing.TB, s *Session, content []byte) call {
	t.Helper()
	ed, err := spec.Spec{}.MakeData(svcPrefix.Append(enc.NewGenericComponent("echo")), &ndn.DataConfig{}, enc.Wire{content}, s.Signer())
	if err != nil {
		t.Fatal(err)
	}
	b := ed.Wire.Join()
	d, covered, err := spec.Spec{}.ReadData(enc.NewBufferView(b))
	if err != nil {
		t.Fatal(err)
	}
	return call{sig: d.Signature(), covered: covered, wire: b}
}

func TestSignedInterestRoundTrip(t *testing.T) {
	cli, srv := pair(t)
	c := makeCall(t, cli, cli.NextSeq(), []byte("hi"))
	if c.sig.SigType() != ndn.SignatureHmacWithSha256 || !c.sig.KeyName().Equal(cli.Name()) || len(c.sig.SigValue()) != 32 {
		t.Fatalf("signature %v key %v len %d", c.sig.SigType(), c.sig.KeyName(), len(c.sig.SigValue()))
	}
	if id, ok := IDFromName(c.sig.KeyName()); !ok || id != srv.ID() {
		t.Fatalf("IDFromName(%v) = %x, %v", c.sig.KeyName(), id, ok)
	}
	if err := srv.VerifyInterest(t0, c.covered, c.sig); err != nil {
		t.Fatalf("VerifyInterest: %v", err)
	}
	if !srv.LastUsed().Equal(t0) {
		t.Fatalf("LastUsed = %v", srv.LastUsed())
	}
	// The reply, the other way.
	r := makeReply(t, srv, []byte("ho"))
	if err := cli.VerifyData(t0, r.covered, r.sig); err != nil {
		t.Fatalf("VerifyData: %v", err)
	}
	// Direction matters: the server does not accept its own signature, nor
	// the client a copy of its own call (reflection).
	if err := srv.VerifyData(t0, r.covered, r.sig); !errors.Is(err, security.ErrBadSignature) {
		t.Fatalf("server verifying its own reply: %v", err)
	}
	c2 := makeCall(t, cli, cli.NextSeq(), nil)
	if err := cli.VerifyInterest(t0, c2.covered, c2.sig); !errors.Is(err, security.ErrBadSignature) {
		t.Fatalf("client verifying its own call: %v", err)
	}
}

// TestVerifyInterestRejects covers each way a call can fail. Every error must
// match security.ErrUnauthenticated.
func TestVerifyInterestRejects(t *testing.T) {
	cli, srv := pair(t)
	other, _ := pair(t)
	// A client of another session that claims this session's name: right
	// KeyLocator, wrong key.
	ik, _, _ := handshake(t, nil, time.Hour)
	impostor, err := New(RoleClient, cli.Name(), ik)
	if err != nil {
		t.Fatal(err)
	}

	// Flipping a bit on the wire would break the ParametersSha256Digest
	// first (which the caller checks); flip it in the parsed signature.
	flip := func(c call, i int) call {
		v := bytes.Clone(c.sig.SigValue())
		v[i] ^= 0x01
		c.sig = forgedSig{Signature: c.sig, value: v}
		return c
	}
	tests := []struct {
		name string
		c    call
		now  time.Time
		want error
	}{
		{name: "bit flip in HMAC", c: flip(makeCall(t, cli, 1, []byte("x")), 0), want: security.ErrBadSignature},
		{name: "last HMAC bit", c: flip(makeCall(t, cli, 2, []byte("x")), 31), want: security.ErrBadSignature},
		{name: "other session", c: makeCall(t, other, 3, nil), want: security.ErrBadSignature},
		{name: "right name wrong key", c: makeCall(t, impostor, 4, nil), want: security.ErrBadSignature},
		{name: "expired", c: makeCall(t, cli, 5, nil), now: t0.Add(time.Hour), want: ErrSessionExpired},
		{name: "seq 0", c: makeCall(t, cli, 0, nil), want: security.ErrReplay},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.now
			if now.IsZero() {
				now = t0
			}
			err := srv.VerifyInterest(now, tt.c.covered, tt.c.sig)
			if !errors.Is(err, tt.want) || !errors.Is(err, security.ErrUnauthenticated) {
				t.Fatalf("VerifyInterest = %v, want %v", err, tt.want)
			}
		})
	}
	// A forgery does not burn its sequence number.
	good := makeCall(t, cli, 1, []byte("x"))
	if err := srv.VerifyInterest(t0, good.covered, good.sig); err != nil {
		t.Fatalf("genuine seq 1 after forged seq 1: %v", err)
	}
}

func TestVerifyInterestMissingFields(t *testing.T) {
	cli, srv := pair(t)
	name := svcPrefix.Append(enc.NewGenericComponent("echo"))
	tests := []struct {
		name   string
		cfg    ndn.InterestConfig
		signer ndn.Signer
		want   error
	}{
		{name: "no seq", cfg: ndn.InterestConfig{SigNonce: []byte{1}}, signer: cli.Signer(), want: security.ErrReplay},
		{name: "no nonce", cfg: ndn.InterestConfig{SigSeqNo: optional.Some[uint64](1)}, signer: cli.Signer(), want: security.ErrReplay},
		{name: "long nonce", cfg: ndn.InterestConfig{SigSeqNo: optional.Some[uint64](1), SigNonce: make([]byte, 65)}, signer: cli.Signer(), want: security.ErrReplay},
		{name: "unsigned", cfg: ndn.InterestConfig{}, signer: nil, want: security.ErrNoSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ei, err := spec.Spec{}.MakeInterest(name.Clone(), &tt.cfg, enc.Wire{[]byte("p")}, tt.signer)
			if err != nil {
				t.Fatal(err)
			}
			c := readCall(t, ei.Wire.Join())
			if err := srv.VerifyInterest(t0, c.covered, c.sig); !errors.Is(err, tt.want) {
				t.Fatalf("VerifyInterest = %v, want %v", err, tt.want)
			}
		})
	}
	if err := srv.VerifyInterest(t0, nil, nil); !errors.Is(err, security.ErrNoSignature) {
		t.Fatalf("nil signature: %v", err)
	}
}

func TestReplayWindowThroughPackets(t *testing.T) {
	cli, srv := pair(t)
	calls := make(map[uint64]call)
	get := func(seq uint64) call {
		if c, ok := calls[seq]; ok {
			return c
		}
		c := makeCall(t, cli, seq, []byte{byte(seq)})
		calls[seq] = c
		return c
	}
	steps := []struct {
		seq  uint64
		want error
	}{
		{1, nil},
		{1, security.ErrReplay}, // same packet again
		{5, nil},
		{3, nil}, // reordered, inside the window
		{2, nil},
		{3, security.ErrReplay},
		{5, security.ErrReplay},
		{5 + WindowSize - 1, nil}, // the window is now 5..1028
		{5, security.ErrReplay},
		{4, security.ErrReplay}, // unseen but below the window
		{6, nil},                // unseen, inside
		{5 + WindowSize, nil},   // window 6..1029
		{5, security.ErrReplay},
		{7, nil},
		{1 << 40, nil},
		{1<<40 - WindowSize, security.ErrReplay},
		{1<<40 - WindowSize + 1, nil},
	}
	for i, st := range steps {
		c := get(st.seq)
		err := srv.VerifyInterest(t0, c.covered, c.sig)
		if !errors.Is(err, st.want) || (st.want == nil && err != nil) {
			t.Fatalf("step %d: seq %d: got %v, want %v", i, st.seq, err, st.want)
		}
	}
}

func TestVerifyDataRejects(t *testing.T) {
	cli, srv := pair(t)
	_, otherSrv := pair(t)
	ck, sk, _ := handshake(t, nil, time.Hour)
	ck.Erase()
	wrongKey, err := New(RoleServer, srv.Name(), sk)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		r    call
		now  time.Time
		want error
	}{
		{name: "different session", r: makeReply(t, otherSrv, []byte("x")), want: security.ErrBadSignature},
		{name: "wrong key same name", r: makeReply(t, wrongKey, []byte("x")), want: security.ErrBadSignature},
		{name: "expired", r: makeReply(t, srv, []byte("x")), now: t0.Add(2 * time.Hour), want: ErrSessionExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.now
			if now.IsZero() {
				now = t0
			}
			if err := cli.VerifyData(now, tt.r.covered, tt.r.sig); !errors.Is(err, tt.want) || !errors.Is(err, security.ErrUnauthenticated) {
				t.Fatalf("VerifyData = %v, want %v", err, tt.want)
			}
		})
	}
	// Content tampering: change the last content byte of a genuine reply.
	r := makeReply(t, srv, []byte("hello"))
	b := bytes.Clone(r.wire)
	i := bytes.Index(b, []byte("hello"))
	b[i] ^= 1
	d, covered, err := spec.Spec{}.ReadData(enc.NewBufferView(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := cli.VerifyData(t0, covered, d.Signature()); !errors.Is(err, security.ErrBadSignature) {
		t.Fatalf("tampered content: %v", err)
	}
	// A Data signed with Ed25519-style type but no session: wrong type.
	ud, err := spec.Spec{}.MakeData(svcPrefix, &ndn.DataConfig{}, enc.Wire{[]byte("x")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, covered, _ = spec.Spec{}.ReadData(enc.NewBufferView(ud.Wire.Join()))
	if err := cli.VerifyData(t0, covered, d.Signature()); !errors.Is(err, security.ErrUnauthenticated) {
		t.Fatalf("unsigned Data: %v", err)
	}
}

func TestSealOpen(t *testing.T) {
	cli, srv := pair(t)
	aad := svcPrefix.Append(enc.NewGenericComponent("echo")).Bytes()
	for _, n := range []int{0, 1, 1024, 70000} {
		pt := bytes.Repeat([]byte{0xab}, n)
		seq := cli.NextSeq()
		sealed, err := cli.Seal(aad, pt, seq)
		if err != nil {
			t.Fatal(err)
		}
		if len(sealed) != n+SealOverhead {
			t.Fatalf("sealed %d bytes to %d, want %d", n, len(sealed), n+SealOverhead)
		}
		if n > 16 && bytes.Contains(sealed, pt[:16]) {
			t.Fatal("plaintext visible in sealed payload")
		}
		got, err := srv.Open(aad, sealed)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("Open(%d bytes) = %d bytes, %v", n, len(got), err)
		}
	}
	// And back.
	sealed, err := srv.Seal(aad, []byte("reply"), srv.NextSeq())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := cli.Open(aad, sealed); err != nil || string(got) != "reply" {
		t.Fatalf("reply Open = %q, %v", got, err)
	}
	// Same seq, different plaintext: ciphertexts differ in direction
	// because the keys and tags do.
	a, _ := cli.Seal(aad, []byte("same"), 99)
	b, _ := srv.Seal(aad, []byte("same"), 99)
	if bytes.Equal(a, b) {
		t.Fatal("both directions sealed identically")
	}
	if _, err := cli.Seal(aad, nil, 0); !errors.Is(err, ErrInvalidSeq) {
		t.Fatalf("Seal seq 0: %v", err)
	}
}

func TestOpenRejects(t *testing.T) {
	cli, srv := pair(t)
	other, _ := pair(t)
	aad := []byte("/example/svc/echo")
	sealed, err := cli.Seal(aad, []byte("secret payload"), cli.NextSeq())
	if err != nil {
		t.Fatal(err)
	}
	fromOther, _ := other.Seal(aad, []byte("secret payload"), 1)
	mut := func(i int) []byte { b := bytes.Clone(sealed); b[i] ^= 0x80; return b }
	tests := []struct {
		name   string
		opener *Session
		aad    []byte
		in     []byte
	}{
		{name: "ciphertext bit", opener: srv, aad: aad, in: mut(10)},
		{name: "tag bit", opener: srv, aad: aad, in: mut(len(sealed) - 1)},
		{name: "seq changed", opener: srv, aad: aad, in: mut(7)},
		{name: "wrong aad", opener: srv, aad: []byte("/example/svc/other"), in: sealed},
		{name: "no aad", opener: srv, aad: nil, in: sealed},
		{name: "truncated", opener: srv, aad: aad, in: sealed[:len(sealed)-1]},
		{name: "too short", opener: srv, aad: aad, in: sealed[:SealOverhead-1]},
		{name: "empty", opener: srv, aad: aad, in: nil},
		{name: "other session", opener: srv, aad: aad, in: fromOther},
		{name: "own direction", opener: cli, aad: aad, in: sealed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pt, err := tt.opener.Open(tt.aad, tt.in)
			if !errors.Is(err, ErrOpen) || !errors.Is(err, security.ErrBadSignature) || !errors.Is(err, security.ErrUnauthenticated) || pt != nil {
				t.Fatalf("Open = %q, %v; want ErrOpen", pt, err)
			}
		})
	}
}

func TestExpiry(t *testing.T) {
	cli, srv := pair(t)
	exp := srv.Expires()
	if !exp.Equal(t0.Add(time.Hour)) || !cli.Expires().Equal(exp) {
		t.Fatalf("expires %v / %v", srv.Expires(), cli.Expires())
	}
	if srv.Expired(exp.Add(-time.Nanosecond)) || !srv.Expired(exp) {
		t.Fatal("Expired boundary wrong")
	}
	c := makeCall(t, cli, cli.NextSeq(), nil)
	if err := srv.VerifyInterest(exp.Add(-time.Millisecond), c.covered, c.sig); err != nil {
		t.Fatalf("just before expiry: %v", err)
	}
	c = makeCall(t, cli, cli.NextSeq(), nil)
	if err := srv.VerifyInterest(exp, c.covered, c.sig); !errors.Is(err, ErrSessionExpired) {
		t.Fatalf("at expiry: %v", err)
	}
}

func TestCloseErases(t *testing.T) {
	cli, srv := pair(t)
	c := makeCall(t, cli, cli.NextSeq(), nil)
	sealed, _ := cli.Seal(nil, []byte("x"), cli.NextSeq())
	srv.Close()
	srv.Close() // idempotent
	if !srv.Closed() {
		t.Fatal("Closed() = false")
	}
	var zero [32]byte
	if srv.sendMAC != zero || srv.recvMAC != zero || srv.sendSeal != zero || srv.recvSeal != zero {
		t.Fatal("Close left key material")
	}
	checks := map[string]error{}
	checks["VerifyInterest"] = srv.VerifyInterest(t0, c.covered, c.sig)
	r := makeReply(t, cli, nil) // any signed Data naming the session
	checks["VerifyData"] = srv.VerifyData(t0, r.covered, r.sig)
	_, checks["Seal"] = srv.Seal(nil, nil, 1)
	_, checks["Open"] = srv.Open(nil, sealed)
	_, checks["Sign"] = srv.Signer().Sign(enc.Wire{[]byte("x")})
	for name, err := range checks {
		if !errors.Is(err, ErrSessionClosed) || !errors.Is(err, security.ErrUnauthenticated) {
			t.Errorf("%s after Close = %v, want ErrSessionClosed", name, err)
		}
	}
	// MakeInterest surfaces the signer's error.
	cfg := &ndn.InterestConfig{SigNonce: []byte{1}, SigSeqNo: optional.Some[uint64](1)}
	if _, err := (spec.Spec{}).MakeInterest(svcPrefix.Clone(), cfg, enc.Wire{}, srv.Signer()); !errors.Is(err, ErrSessionClosed) {
		t.Errorf("MakeInterest after Close = %v", err)
	}
}

func TestNew(t *testing.T) {
	k, _, sh := handshake(t, nil, time.Hour)
	name := Name(svcPrefix, sh.SessionID)
	if _, err := New(RoleClient, nil, k); err == nil {
		t.Error("New with empty name succeeded")
	}
	if _, err := New(Role(9), name, k); err == nil {
		t.Error("New with unknown role succeeded")
	}
	if _, err := New(RoleClient, name, nil); err == nil {
		t.Error("New with nil keys succeeded")
	}
	want := *k
	s, err := New(RoleClient, name, k)
	if err != nil {
		t.Fatal(err)
	}
	if k.ClientMAC != ([32]byte{}) {
		t.Error("New did not erase the Keys it copied")
	}
	if s.sendMAC != want.ClientMAC || s.recvSeal != want.ServerSeal || s.ID() != want.SessionID || s.Role() != RoleClient {
		t.Error("client session has the wrong keys")
	}
	// The session keeps its own copy of the name.
	name[0] = enc.NewGenericComponent("changed")
	if !s.Name().Equal(Name(svcPrefix, sh.SessionID)) {
		t.Error("Session shares the caller's name")
	}
	if RoleClient.String() != "client" || RoleServer.String() != "server" || Role(7).String() != "Role(7)" {
		t.Error("Role.String")
	}
	if g := s.Signer(); g.Type() != ndn.SignatureHmacWithSha256 || g.EstimateSize() != 32 || !g.KeyName().Equal(g.KeyLocator()) {
		t.Error("Signer fields")
	} else if _, err := g.Public(); !errors.Is(err, ndn.ErrNoPubKey) {
		t.Errorf("Public() = %v", err)
	}
}

func TestNameID(t *testing.T) {
	id := [16]byte{0xde, 0xad, 0xbe, 0xef, 15: 0x01}
	n := Name(svcPrefix, id)
	if got := n.String(); got != "/example/svc/_session/deadbeef000000000000000000000001" {
		t.Fatalf("Name = %s", got)
	}
	tests := []struct {
		name string
		in   enc.Name
		ok   bool
	}{
		{name: "good", in: n, ok: true},
		{name: "root session", in: Name(nil, id), ok: true},
		{name: "upper hex", in: mustName("/x/_session/DEADBEEF000000000000000000000001")},
		{name: "short", in: mustName("/x/_session/deadbeef")},
		{name: "no marker", in: mustName("/x/session/deadbeef000000000000000000000001")},
		{name: "not hex", in: mustName("/x/_session/zzadbeef000000000000000000000001")},
		{name: "one component", in: mustName("/_session")},
		{name: "empty", in: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := IDFromName(tt.in)
			if ok != tt.ok || (ok && got != id) {
				t.Fatalf("IDFromName(%v) = %x, %v", tt.in, got, ok)
			}
		})
	}
}

// TestConcurrentUse runs signing, verifying, sealing and opening from many
// goroutines on one session pair, for -race, and checks that every one of
// the distinct sequence numbers is accepted exactly once.
func TestConcurrentUse(t *testing.T) {
	cli, srv := pair(t)
	const workers, per = 8, 50
	aad := []byte("/example/svc/echo")
	var wg sync.WaitGroup
	errs := make(chan error, workers*per*2)
	calls := make(chan call, workers*per)
	for range workers {
		wg.Go(func() {
			for range per {
				seq := cli.NextSeq()
				c, err := tryMakeCall(cli, seq, nil)
				if err != nil {
					errs <- err
					continue
				}
				calls <- c
				if err := srv.VerifyInterest(t0, c.covered, c.sig); err != nil {
					errs <- err
				}
				sealed, err := cli.Seal(aad, []byte("p"), seq)
				if err != nil {
					errs <- err
					continue
				}
				if _, err := srv.Open(aad, sealed); err != nil {
					errs <- err
				}
				_ = srv.LastUsed()
			}
		})
	}
	wg.Wait()
	close(calls)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Replaying all of them concurrently: every one is rejected.
	var rejected sync.WaitGroup
	for c := range calls {
		rejected.Go(func() {
			if err := srv.VerifyInterest(t0, c.covered, c.sig); !errors.Is(err, security.ErrReplay) {
				t.Errorf("replay accepted or wrong error: %v", err)
			}
		})
	}
	rejected.Wait()
	// Close racing with use.
	var wg2 sync.WaitGroup
	wg2.Go(srv.Close)
	wg2.Go(func() { _, _ = srv.Seal(nil, nil, 1) })
	wg2.Go(func() { _, _ = srv.Signer().Sign(enc.Wire{[]byte("x")}) })
	wg2.Wait()
}

// TestTamperedServerHelloMACFails: a ServerHello changed in flight gives the
// client other keys, so its first call fails the service's MAC check.
func TestTamperedServerHelloMACFails(t *testing.T) {
	hs, ch, err := ClientStart(nil)
	if err != nil {
		t.Fatal(err)
	}
	sk, sh, err := ServerAccept(nil, ch, t0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	name := Name(svcPrefix, sh.SessionID)
	srv, err := New(RoleServer, name, sk)
	if err != nil {
		t.Fatal(err)
	}
	sh.Lifetime = 10 * time.Hour // the attacker's edit
	ck, err := hs.Finish(sh, t0)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := New(RoleClient, name, ck)
	if err != nil {
		t.Fatal(err)
	}
	c := makeCall(t, cli, cli.NextSeq(), []byte("x"))
	if err := srv.VerifyInterest(t0, c.covered, c.sig); !errors.Is(err, security.ErrBadSignature) {
		t.Fatalf("VerifyInterest = %v, want ErrBadSignature", err)
	}
}
