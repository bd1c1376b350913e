package hello_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/examples/hello"
	"github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/security"
)

func TestMain(m *testing.M) { ndntest.Main(m) }

// Example serves /example/hello on the test binary's real forwarder, where
// only identities under /example/users may call, and calls it twice.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	anchor := ndntest.Anchor()
	issue := func(uri string) *security.Identity {
		id, err := anchor.Issue(enc.Name(must(enc.NameFromStr(uri))), time.Hour)
		if err != nil {
			panic(err)
		}
		return id
	}
	connect := func(id *security.Identity) *ndn.Node {
		n, err := ndn.Connect(ctx, ndn.Config{Transport: ndntest.Transport(), Identity: id, Anchors: [][]byte{anchor.CertWire()}})
		if err != nil {
			panic(err)
		}
		return n
	}
	svc := connect(issue("/example/hello-service"))
	defer svc.Close()
	policy, err := security.ParsePolicy("allow /example/users/<user> to call /example/hello/<user>")
	if err != nil {
		panic(err)
	}
	prefix := must(enc.NameFromStr("/example/hello"))
	if err := hello.Serve(ctx, svc, prefix, policy); err != nil {
		panic(err)
	}

	alice := connect(issue("/example/users/alice"))
	defer alice.Close()
	fmt.Println(hello.Call(ctx, alice, must(enc.NameFromStr("/example/hello/alice"))))
	_, err = hello.Call(ctx, alice, must(enc.NameFromStr("/example/hello/bob")))
	fmt.Println("rejected:", errors.Is(err, hello.ErrRejected))
	// Output:
	// hello, /example/users/alice <nil>
	// rejected: true
}

func must(n enc.Name, err error) enc.Name {
	if err != nil {
		panic(err)
	}
	return n
}
