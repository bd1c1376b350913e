package security_test

import (
	"context"
	"crypto/ed25519"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	sig "github.com/named-data/ndnd/std/security/signer"
	"github.com/named-data/ndnd/std/types/optional"
	"github.com/stretchr/testify/require"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/security"
)

// The package's tests share one real forwarder and check for leaks at the end.
func TestMain(m *testing.M) { ndntest.Main(m) }

// verdicts is a service on the real forwarder that verifies every signed
// Interest under prefix and reports the verdict to the test.
type verdicts struct {
	prefix enc.Name
	got    chan verdict
}

type verdict struct {
	key enc.Name
	err error
}

func newVerdicts(t *testing.T) *verdicts {
	v := &verdicts{prefix: ndntest.Prefix(t), got: make(chan verdict, 16)}
	svc := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "svc")})
	require.NoError(t, svc.Handle(v.prefix, func(ctx context.Context, in *ndnx.Incoming) {
		// Certificates are fetched within the Interest's lifetime; keep
		// some of it to answer.
		vctx, cancel := context.WithTimeout(ctx, time.Until(in.Deadline)/2)
		key, err := svc.Verifier().VerifyInterest(vctx, in.Interest, in.SigCovered)
		cancel()
		v.got <- verdict{key, err}
		w, _ := svc.SignData(in.Interest.Name(), nil, enc.Wire{[]byte("seen")})
		_ = in.Reply(w)
	}))
	require.NoError(t, svc.Register(tctx(t, 5*time.Second), v.prefix, nil))
	return v
}

// send expresses i from node and returns the service's verdict.
func (v *verdicts) send(t *testing.T, node *ndnx.Node, i *ndn.EncodedInterest) verdict {
	t.Helper()
	_, err := node.Express(tctx(t, 4*time.Second), i)
	require.NoError(t, err, "the service answers every Interest it receives")
	select {
	case r := <-v.got:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("no verdict")
		return verdict{}
	}
}

func (v *verdicts) call(t *testing.T, node *ndnx.Node) verdict {
	t.Helper()
	i, err := node.MakeInterest(tctx(t, 4*time.Second), v.prefix.Append(enc.NewGenericComponent("m")), &ndn.InterestConfig{MustBeFresh: true}, enc.Wire{[]byte("p")}, true)
	require.NoError(t, err)
	return v.send(t, node, i)
}

func tctx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func nm(t *testing.T, uri string) enc.Name {
	n, err := enc.NameFromStr(uri)
	require.NoError(t, err)
	return n
}

func TestRealForwarderValidSignedInterest(t *testing.T) {
	v := newVerdicts(t)
	alice := ndntest.Identity(t, "alice")
	node := ndntest.Connect(t, ndnx.Config{Identity: alice})
	r := v.call(t, node)
	require.NoError(t, r.err)
	require.True(t, alice.KeyName().Equal(r.key), "caller is alice's key, got %s", r.key)
	// And again: fresh signature, certificate from the cache.
	require.NoError(t, v.call(t, node).err)
}

func TestRealForwarderForgedSignature(t *testing.T) {
	v := newVerdicts(t)
	alice := ndntest.Identity(t, "alice")
	node := ndntest.Connect(t, ndnx.Config{Identity: alice})
	// A well-formed Interest naming alice's key, signed with another key.
	_, priv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	cfg := &ndn.InterestConfig{
		MustBeFresh: true, Lifetime: optional.Some(4 * time.Second), Nonce: optional.Some(uint32(7)),
		SigNonce: []byte{9, 9, 9, 9, 9, 9, 9, 9}, SigTime: optional.Some(time.Duration(time.Now().UnixMilli()) * time.Millisecond),
	}
	i, err := spec.Spec{}.MakeInterest(v.prefix.Append(enc.NewGenericComponent("m")), cfg, enc.Wire{[]byte("p")}, sig.NewEd25519Signer(alice.KeyName(), priv))
	require.NoError(t, err)
	r := v.send(t, node, i)
	require.ErrorIs(t, r.err, security.ErrBadSignature)
	require.ErrorIs(t, r.err, security.ErrUnauthenticated)
}

func TestRealForwarderUnknownIssuer(t *testing.T) {
	v := newVerdicts(t)
	rogue, err := security.NewAnchor(nm(t, "/rogue"), time.Hour)
	require.NoError(t, err)
	mallory, err := rogue.Issue(nm(t, "/rogue/mallory"), time.Hour)
	require.NoError(t, err)
	// The rogue anchor's certificate is reachable too, so the verifier
	// walks the whole chain and finds it ends at an anchor it does not trust.
	rnode := ndntest.Connect(t, ndnx.Config{Identity: rogue})
	require.NotNil(t, rnode)
	node := ndntest.Connect(t, ndnx.Config{Identity: mallory})
	r := v.call(t, node)
	require.ErrorIs(t, r.err, security.ErrUnknownIssuer)
	require.ErrorIs(t, r.err, security.ErrUnauthenticated)
}

func TestRealForwarderUnreachableIssuer(t *testing.T) {
	v := newVerdicts(t)
	rogue, err := security.NewAnchor(nm(t, "/unreachable"), time.Hour)
	require.NoError(t, err)
	eve, err := rogue.Issue(nm(t, "/unreachable/eve"), time.Hour)
	require.NoError(t, err)
	node := ndntest.Connect(t, ndnx.Config{Identity: eve})
	r := v.call(t, node)
	require.ErrorIs(t, r.err, security.ErrUnknownIssuer)
}

func TestRealForwarderSelfSignedNotAnchor(t *testing.T) {
	v := newVerdicts(t)
	self, err := security.NewAnchor(nm(t, "/ndntest/id/selfish"), time.Hour)
	require.NoError(t, err)
	node := ndntest.Connect(t, ndnx.Config{Identity: self})
	r := v.call(t, node)
	require.ErrorIs(t, r.err, security.ErrUnknownIssuer)
}

func TestRealForwarderExpiredCertificate(t *testing.T) {
	v := newVerdicts(t)
	old, err := ndntest.Anchor().IssueWith(nm(t, "/ndntest/id/old"), &security.IssueConfig{
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	require.NoError(t, err)
	node := ndntest.Connect(t, ndnx.Config{Identity: old})
	r := v.call(t, node)
	require.ErrorIs(t, r.err, security.ErrCertExpired)
	require.ErrorIs(t, r.err, security.ErrUnauthenticated)
}

func TestRealForwarderReplay(t *testing.T) {
	v := newVerdicts(t)
	node := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "alice")})
	i, err := node.MakeInterest(tctx(t, 4*time.Second), v.prefix.Append(enc.NewGenericComponent("m")), &ndn.InterestConfig{MustBeFresh: true}, enc.Wire{[]byte("p")}, true)
	require.NoError(t, err)
	require.NoError(t, v.send(t, node, i).err)
	// The signed part byte for byte, under a new Interest nonce (not covered
	// by the signature), as a replayer would send it past the PIT.
	r := v.send(t, node, withNewNonce(t, i))
	require.ErrorIs(t, r.err, security.ErrReplay)
	require.ErrorIs(t, r.err, security.ErrUnauthenticated)
}

func TestRealForwarderTimeSkew(t *testing.T) {
	v := newVerdicts(t)
	alice := ndntest.Identity(t, "alice")
	node := ndntest.Connect(t, ndnx.Config{Identity: alice})
	skewed, err := security.NewInterestSignerConfig(security.InterestSignerConfig{
		Signer: alice.Signer(), Now: func() time.Time { return time.Now().Add(-10 * time.Minute) }})
	require.NoError(t, err)
	i, err := skewed.MakeInterest(v.prefix.Append(enc.NewGenericComponent("m")),
		&ndn.InterestConfig{MustBeFresh: true, Lifetime: optional.Some(4 * time.Second), Nonce: optional.Some(uint32(3))}, enc.Wire{[]byte("p")})
	require.NoError(t, err)
	r := v.send(t, node, i)
	require.ErrorIs(t, r.err, security.ErrTimeSkew)
	require.ErrorIs(t, r.err, security.ErrUnauthenticated)
}

func TestRealForwarderUnsignedInterest(t *testing.T) {
	v := newVerdicts(t)
	node := ndntest.Connect(t, ndnx.Config{})
	i, err := node.MakeInterest(tctx(t, 4*time.Second), v.prefix.Append(enc.NewGenericComponent("m")), &ndn.InterestConfig{MustBeFresh: true}, enc.Wire{[]byte("p")}, false)
	require.NoError(t, err)
	r := v.send(t, node, i)
	require.ErrorIs(t, r.err, security.ErrNoSignature)
}

// withNewNonce flips the Interest's Nonce (TLV 0x0a), leaving every signed
// byte as it was.
func withNewNonce(t *testing.T, i *ndn.EncodedInterest) *ndn.EncodedInterest {
	t.Helper()
	b := i.Wire.Join()
	r := enc.NewBufferView(b)
	_, err := r.ReadTLNum()
	require.NoError(t, err)
	_, err = r.ReadTLNum()
	require.NoError(t, err)
	for !r.IsEOF() {
		typ, err := r.ReadTLNum()
		require.NoError(t, err)
		l, err := r.ReadTLNum()
		require.NoError(t, err)
		if typ == 0x0a {
			b[r.Pos()] ^= 0xff
			return &ndn.EncodedInterest{Wire: enc.Wire{b}, FinalName: i.FinalName, Config: i.Config}
		}
		require.NoError(t, r.Skip(int(l)))
	}
	t.Fatal("no nonce")
	return nil
}
