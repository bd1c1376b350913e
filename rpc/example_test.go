package rpc_test

import (
	"context"
	"fmt"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/rpc"
	"github.com/ndn-invoke/ndn-invoke/rpc/codes"
	"github.com/ndn-invoke/ndn-invoke/rpc/status"
)

// Example serves a greeting method on the test binary's real forwarder and
// calls it, once successfully and once with an argument it refuses.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	anchor := ndntest.Anchor()
	svcName, _ := enc.NameFromStr("/example/greeter")
	svcID, _ := anchor.Issue(svcName, time.Hour) // the service's key lives under its name
	svcNode, err := ndnx.Connect(ctx, ndnx.Config{Transport: ndntest.Transport(), Identity: svcID, Anchors: [][]byte{anchor.CertWire()}})
	if err != nil {
		panic(err)
	}
	defer svcNode.Close()

	s, _ := rpc.NewServer(svcNode, rpc.ServerConfig{Service: svcName})
	_ = rpc.Unary(s.Mux, "greet", func(_ context.Context, who string) (string, error) {
		if who == "" {
			return "", status.Error(codes.InvalidArgument, "who is missing")
		}
		return "hello, " + who, nil
	}, rpc.MethodOptions{Idempotent: true})
	if err := s.Start(ctx); err != nil {
		panic(err)
	}
	defer s.Close()

	userName, _ := enc.NameFromStr("/example/users/ada")
	userID, _ := anchor.Issue(userName, time.Hour)
	userNode, err := ndnx.Connect(ctx, ndnx.Config{Transport: ndntest.Transport(), Identity: userID, Anchors: [][]byte{anchor.CertWire()}})
	if err != nil {
		panic(err)
	}
	defer userNode.Close()
	c, _ := rpc.NewClient(userNode, rpc.ClientConfig{})

	var reply string
	err = c.Call(ctx, "/example/greeter/greet", "ada", &reply, nil)
	fmt.Println(reply, err)
	err = c.Call(ctx, "/example/greeter/greet", "", &reply, nil)
	fmt.Println(status.Code(err), status.Convert(err).Message)
	// Output:
	// hello, ada <nil>
	// InvalidArgument who is missing
}
