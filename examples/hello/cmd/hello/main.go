// Command hello is `make demo`: it starts a real ndnd forwarder of its own,
// makes a throwaway trust anchor and identities, serves /example/hello, and
// shows one signed call accepted and each kind of bad call rejected.
package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/log"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	sig "github.com/named-data/ndnd/std/security/signer"
	"github.com/named-data/ndnd/std/types/optional"

	"github.com/ndn-invoke/ndn-invoke/examples/hello"
	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/security"
)

const policyText = `# who may call what
allow /example/users/<user> to call /example/hello/<user>
`

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run() error {
	// ndnd logs dropped malformed packets at ERROR; the demo reports outcomes itself.
	log.Default().SetLevel(log.LevelFatal)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	dir, err := os.MkdirTemp("", "ndn-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fw, err := ndnx.StartForwarder(ctx, ndnx.ForwarderConfig{Dir: dir})
	if err != nil {
		return err
	}
	defer fw.Stop()
	fmt.Printf("forwarder   ndnd (YaNFD) pid %d at %s\n", fw.Pid(), fw.Transport())

	anchor, err := security.NewAnchor(name("/example"), time.Hour)
	if err != nil {
		return err
	}
	fmt.Printf("anchor      %s\n", anchor.CertName())
	issue := func(uri string) *security.Identity {
		id, err := anchor.Issue(name(uri), time.Hour)
		if err != nil {
			panic(err)
		}
		return id
	}
	connect := func(id *security.Identity, anchors ...*security.Identity) (*ndnx.Node, error) {
		var wires [][]byte
		for _, a := range anchors {
			wires = append(wires, a.CertWire())
		}
		return ndnx.Connect(ctx, ndnx.Config{Transport: fw.Transport(), Identity: id, Anchors: wires})
	}

	svc, err := connect(issue("/example/hello-service"), anchor)
	if err != nil {
		return err
	}
	defer svc.Close()
	policy, err := security.ParsePolicy(policyText)
	if err != nil {
		return err
	}
	if err := hello.Serve(ctx, svc, name("/example/hello"), policy); err != nil {
		return err
	}
	fmt.Printf("service     /example/hello, policy: %s\n\n", policy.Rules()[0])

	alice, err := connect(issue("/example/users/alice"), anchor)
	if err != nil {
		return err
	}
	defer alice.Close()

	show := func(what string, reply string, err error) {
		if err != nil {
			fmt.Printf("%-40s REJECTED  %v\n", what, err)
		} else {
			fmt.Printf("%-40s OK        %q\n", what, reply)
		}
	}

	// 1. A signed call from an identity the policy allows.
	start := time.Now()
	r, err := call(ctx, alice, name("/example/hello/alice"))
	show("alice calls /example/hello/alice", r, err)
	if err != nil {
		return fmt.Errorf("the legitimate call failed: %w", err)
	}
	fmt.Printf("%-40s           first call %v (includes fetching alice's certificate)\n", "", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	r, err = call(ctx, alice, name("/example/hello/alice"))
	show("alice calls again", r, err)
	fmt.Printf("%-40s           second call %v (certificate cached)\n", "", time.Since(start).Round(time.Microsecond))

	// 2. Outside the policy: alice may only reach her own name.
	r, err = call(ctx, alice, name("/example/hello/bob"))
	show("alice calls /example/hello/bob", r, err)

	// 3. A replay: the same signed request resent (a fresh Interest nonce,
	// as an attacker would send to get past the forwarder's loop check).
	captured, err := alice.MakeInterest(ctx, name("/example/hello/alice"), &ndn.InterestConfig{MustBeFresh: true}, enc.Wire{[]byte("hi")}, true)
	if err != nil {
		return err
	}
	r, err = send(ctx, alice, captured)
	show("alice's captured request", r, err)
	replay, err := reencode(captured)
	if err != nil {
		return err
	}
	r, err = send(ctx, alice, replay)
	show("the same request replayed", r, err)

	// 4. A forged signature: alice's name on a key that is not hers.
	forged, err := forge(alice.Identity(), name("/example/hello/alice"))
	if err != nil {
		return err
	}
	r, err = send(ctx, alice, forged)
	show("a request with a forged signature", r, err)

	// 5. A key certified by an anchor the service does not trust.
	rogueAnchor, err := security.NewAnchor(name("/example"), time.Hour)
	if err != nil {
		return err
	}
	mallory, err := rogueAnchor.Issue(name("/example/users/mallory"), time.Hour)
	if err != nil {
		return err
	}
	mnode, err := connect(mallory, anchor)
	if err != nil {
		return err
	}
	defer mnode.Close()
	r, err = call(ctx, mnode, name("/example/hello/mallory"))
	show("mallory (certified by a rogue anchor)", r, err)

	// 6. An expired certificate.
	old, err := anchor.IssueWith(name("/example/users/carol"), &security.IssueConfig{
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	if err != nil {
		return err
	}
	cnode, err := connect(old, anchor)
	if err != nil {
		return err
	}
	defer cnode.Close()
	r, err = call(ctx, cnode, name("/example/hello/carol"))
	show("carol (certificate expired yesterday)", r, err)
	return nil
}

// call and send bound one request to 3 s: the deadline becomes the
// Interest lifetime.
func call(ctx context.Context, n *ndnx.Node, target enc.Name) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return hello.Call(ctx, n, target)
}

func send(ctx context.Context, n *ndnx.Node, i *ndn.EncodedInterest) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return hello.Send(ctx, n, i)
}

func name(uri string) enc.Name {
	n, err := enc.NameFromStr(uri)
	if err != nil {
		panic(err)
	}
	return n
}

// reencode returns the same Interest with a new Interest nonce: the signed
// part (name, parameters, signature) is byte for byte the original. The
// Nonce (TLV 0x0a) is not covered by the signature, so an attacker can do
// this to get past the forwarder's duplicate-nonce check.
func reencode(i *ndn.EncodedInterest) (*ndn.EncodedInterest, error) {
	b := i.Wire.Join()
	r := enc.NewBufferView(b)
	if _, err := r.ReadTLNum(); err != nil { // Interest type
		return nil, err
	}
	if _, err := r.ReadTLNum(); err != nil { // Interest length
		return nil, err
	}
	for r.Pos() < len(b) {
		typ, err := r.ReadTLNum()
		if err != nil {
			return nil, err
		}
		l, err := r.ReadTLNum()
		if err != nil {
			return nil, err
		}
		if typ == 0x0a && l == 4 {
			b[r.Pos()] ^= 0xff
			return &ndn.EncodedInterest{Wire: enc.Wire{b}, FinalName: i.FinalName, Config: i.Config}, nil
		}
		if err := r.Skip(int(l)); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("no nonce in Interest")
}

// forge signs a request with a fresh key of its own while naming alice's
// key in the KeyLocator: a well-formed packet whose signature cannot verify.
func forge(id *security.Identity, target enc.Name) (*ndn.EncodedInterest, error) {
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		return nil, err
	}
	cfg := &ndn.InterestConfig{
		MustBeFresh: true,
		Lifetime:    optional.Some(2 * time.Second),
		Nonce:       optional.Some(uint32(time.Now().UnixNano())),
		SigNonce:    []byte{1, 2, 3, 4, 5, 6, 7, 8},
		SigTime:     optional.Some(time.Duration(time.Now().UnixMilli()) * time.Millisecond),
	}
	return spec.Spec{}.MakeInterest(target, cfg, enc.Wire{[]byte("hi")}, sig.NewEd25519Signer(id.KeyName(), priv))
}
