package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
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

// ExampleClientStream serves a method that adds up the numbers a client
// streams to it, and calls it: the client sends the items, then
// CloseAndRecv returns the single response.
func ExampleClientStream() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	anchor := ndntest.Anchor()
	connect := func(name string) *ndnx.Node {
		n, _ := enc.NameFromStr(name)
		id, _ := anchor.Issue(n, time.Hour)
		node, err := ndnx.Connect(ctx, ndnx.Config{Transport: ndntest.Transport(), Identity: id, Anchors: [][]byte{anchor.CertWire()}})
		if err != nil {
			panic(err)
		}
		return node
	}
	svcNode := connect("/example/adder")
	defer svcNode.Close()
	s, _ := rpc.NewServer(svcNode, rpc.ServerConfig{Service: svcNode.Identity().Name()})
	_ = rpc.ClientStream(s.Mux, "sum", func(_ context.Context, _ struct{}, recv func() (int, error)) (int, error) {
		sum := 0
		for {
			x, err := recv()
			if errors.Is(err, io.EOF) {
				return sum, nil // the client closed its stream
			}
			if err != nil {
				return 0, err
			}
			sum += x
		}
	}, rpc.MethodOptions{})
	if err := s.Start(ctx); err != nil {
		panic(err)
	}
	defer s.Close()

	userNode := connect("/example/users/bob")
	defer userNode.Close()
	c, _ := rpc.NewClient(userNode, rpc.ClientConfig{})
	up, err := c.ClientStream(ctx, "/example/adder/sum", struct{}{}, nil)
	if err != nil {
		panic(err)
	}
	for _, x := range []int{1, 2, 3, 4} {
		_ = up.Send(x) // blocks only if the server falls 2×StreamWindow items behind
	}
	var sum int
	err = up.CloseAndRecv(&sum)
	fmt.Println(sum, err)
	// Output:
	// 10 <nil>
}

// ExampleBidiStream serves a method that answers each word a client
// streams to it in capitals, and talks with it: both sides stream at once.
func ExampleBidiStream() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	anchor := ndntest.Anchor()
	connect := func(name string) *ndnx.Node {
		n, _ := enc.NameFromStr(name)
		id, _ := anchor.Issue(n, time.Hour)
		node, err := ndnx.Connect(ctx, ndnx.Config{Transport: ndntest.Transport(), Identity: id, Anchors: [][]byte{anchor.CertWire()}})
		if err != nil {
			panic(err)
		}
		return node
	}
	svcNode := connect("/example/shout")
	defer svcNode.Close()
	s, _ := rpc.NewServer(svcNode, rpc.ServerConfig{Service: svcNode.Identity().Name()})
	_ = rpc.BidiStream(s.Mux, "upper", func(_ context.Context, _ struct{}, recv func() (string, error), send func(string) error) error {
		for {
			w, err := recv()
			if errors.Is(err, io.EOF) {
				return nil // the client is done: so are we
			}
			if err != nil {
				return err
			}
			if err := send(strings.ToUpper(w)); err != nil {
				return err
			}
		}
	}, rpc.MethodOptions{})
	if err := s.Start(ctx); err != nil {
		panic(err)
	}
	defer s.Close()

	userNode := connect("/example/users/carol")
	defer userNode.Close()
	c, _ := rpc.NewClient(userNode, rpc.ClientConfig{})
	d, err := c.BidiStream(ctx, "/example/shout/upper", struct{}{}, nil)
	if err != nil {
		panic(err)
	}
	defer d.Close()
	for _, w := range []string{"hello", "ndn"} {
		_ = d.Send(w)
		var got string
		err := d.Recv(&got)
		fmt.Println(got, err)
	}
	_ = d.CloseSend()
	fmt.Println(d.Recv(new(string)))
	// Output:
	// HELLO <nil>
	// NDN <nil>
	// EOF
}
