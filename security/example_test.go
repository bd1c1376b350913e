package security_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"

	"github.com/ndn-invoke/ndn-invoke/security"
)

func name(s string) enc.Name {
	n, err := enc.NameFromStr(s)
	if err != nil {
		panic(err)
	}
	return n
}

// A trust anchor issues a certificate to alice; alice signs a call; the
// service verifies it, learning who called, and rejects a replay.
func ExampleVerifier() {
	anchor, err := security.NewAnchor(name("/example"), 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	alice, err := anchor.Issue(name("/example/alice"), 24*time.Hour)
	if err != nil {
		fmt.Println(err)
		return
	}

	// The service trusts the anchor and fetches callers' certificates; here
	// the "network" holds alice's certificate.
	fetch := security.CertFetcherFunc(func(_ context.Context, n enc.Name) ([]byte, error) {
		if n.IsPrefix(alice.CertName()) {
			return alice.CertWire(), nil
		}
		return nil, errors.New("no such certificate")
	})
	v, err := security.NewVerifier(security.VerifierConfig{
		Anchors: [][]byte{anchor.CertWire()},
		Fetch:   fetch,
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// Alice signs a call.
	signer := security.NewInterestSigner(alice)
	call, err := signer.MakeInterest(name("/example/calc/add"), &ndn.InterestConfig{}, enc.Wire{[]byte("1+2")})
	if err != nil {
		fmt.Println(err)
		return
	}

	// The service receives the wire and checks it.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	in, covered, err := spec.Spec{}.ReadInterest(enc.NewWireView(call.Wire))
	if err != nil {
		fmt.Println(err)
		return
	}
	caller, err := v.VerifyInterest(ctx, in, covered)
	fmt.Println("caller:", caller.Prefix(-2), "error:", err)

	_, err = v.VerifyInterest(ctx, in, covered)
	fmt.Println("replay rejected:", errors.Is(err, security.ErrReplay), errors.Is(err, security.ErrUnauthenticated))
	// Output:
	// caller: /example/alice error: <nil>
	// replay rejected: true true
}

// An identity saved to a keychain directory loads back, as the ndn-invoke
// CLI and `ndnd sec key-list dir://...` read it.
func ExampleSaveIdentity() {
	dir, err := os.MkdirTemp("", "keychain")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	anchor, err := security.NewAnchor(name("/example"), 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := security.SaveIdentity(dir, anchor); err != nil {
		fmt.Println(err)
		return
	}
	id, err := security.LoadIdentity("dir://"+dir, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(id.Name(), id.CertName().Equal(anchor.CertName()))
	// Output:
	// /example true
}
