package vm_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/examples/vm"
	"github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/repo"
	"github.com/ndn-invoke/ndn-invoke/repo/store"
	"github.com/ndn-invoke/ndn-invoke/rpc"
)

// Example runs a repo and the vm service on the test binary's real
// forwarder, creates a VM as a user and waits for it, and shows a request
// the service refuses.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	anchor := ndntest.Anchor()
	connect := func(uri string) *ndn.Node {
		id, err := anchor.Issue(mustName(uri), time.Hour)
		if err != nil {
			panic(err)
		}
		n, err := ndn.Connect(ctx, ndn.Config{Transport: ndntest.Transport(), Identity: id, Anchors: [][]byte{anchor.CertWire()}})
		if err != nil {
			panic(err)
		}
		return n
	}

	// The repo that keeps the operation records.
	dir, err := os.MkdirTemp("", "vm-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	repoNode := connect("/example/repo")
	defer repoNode.Close()
	st, err := store.Open(dir, store.DefaultConfig())
	if err != nil {
		panic(err)
	}
	defer st.Close()
	r, err := repo.New(repoNode, st, repo.Config{Prefix: mustName("/example/repo")})
	if err != nil {
		panic(err)
	}
	if err := r.Start(ctx); err != nil {
		panic(err)
	}
	defer r.Close()

	// The service; a "second" lasts 20ms here.
	svcNode := connect(vm.Service)
	defer svcNode.Close()
	s, err := vm.Start(ctx, svcNode, mustName("/example/repo"), vm.Config{Tick: 20 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	defer s.Close()

	alice := connect("/example/users/alice")
	defer alice.Close()
	c, _ := rpc.NewClient(alice, rpc.ClientConfig{})
	method := mustName(vm.Service + "/" + vm.Method)
	op, err := c.Start(ctx, method, vm.CreateRequest{Name: "web", Seconds: 5}, nil)
	if err != nil {
		panic(err)
	}
	fmt.Printf("started %s: done %v, progress %d\n", op.Method, op.Done, op.Progress)
	final, err := c.WaitOp(ctx, mustName(op.Name), nil)
	if err != nil {
		panic(err)
	}
	var created vm.VM
	_ = json.Unmarshal(final.Result, &created)
	fmt.Printf("finished: done %v, progress %d, %+v\n", final.Done, final.Progress, created)

	// A bad request is refused by the call itself; no operation starts.
	_, err = c.Start(ctx, method, vm.CreateRequest{Name: "db", Seconds: 0}, nil)
	fmt.Println("refused:", err)
	// Output:
	// started /example/vm/CreateVM: done false, progress 0
	// finished: done true, progress 100, {Name:web State:RUNNING}
	// refused: rpc error: code = InvalidArgument desc = seconds must be 1 to 3600, got 0
}

func mustName(uri string) enc.Name {
	n, err := enc.NameFromStr(uri)
	if err != nil {
		panic(err)
	}
	return n
}
