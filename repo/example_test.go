package repo_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	"github.com/named-data/ndnd/std/object"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/repo"
	"github.com/ndn-invoke/ndn-invoke/repo/store"
	"github.com/ndn-invoke/ndn-invoke/rpc"
)

// Example runs a repo on the test binary's real forwarder, has it insert
// an object from its producer, and fetches the object back from the repo
// after the producer has gone.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
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

	// The repo, its store in a temporary directory.
	dir, _ := os.MkdirTemp("", "repo-example")
	defer os.RemoveAll(dir)
	st, _ := store.Open(dir, store.DefaultConfig())
	defer st.Close()
	repoNode := connect("/example/repo")
	defer repoNode.Close()
	r, _ := repo.New(repoNode, st, repo.Config{Prefix: repoNode.Identity().Name()})
	if err := r.Start(ctx); err != nil {
		panic(err)
	}
	defer r.Close()

	// A producer publishes a segmented object (with RDR metadata).
	producer := connect("/example/alice")
	_ = producer.ServeObjects(ctx)
	name := producer.ObjectPrefix().Append(enc.NewGenericComponent("notes"))
	content := bytes.Repeat([]byte("NDN "), 10000)
	_, _ = object.Produce(ndn.ProduceArgs{Name: name.Append(enc.NewVersionComponent(1)), Content: enc.Wire{content}},
		producer.Store(), producer.Identity().Signer())

	// A user tells the repo to insert it, and waits.
	user := connect("/example/bob")
	defer user.Close()
	c, _ := repo.NewClient(user, repoNode.Identity().Name(), rpc.ClientConfig{})
	defer c.Close()
	j, err := c.Insert(ctx, repo.InsertRequest{Name: name.String()})
	if err != nil {
		panic(err)
	}
	j, _ = c.Wait(ctx, j.ID, 50*time.Millisecond, nil)
	fmt.Println("insert:", j.State, j.Packets, "packets")
	producer.Close()

	// Anyone fetches it from the repo, verified segment by segment.
	var out bytes.Buffer
	obj, err := user.FetchObject(ctx, name, &out, nil)
	fmt.Println("fetched:", obj.Name.At(-1), out.Len(), "bytes", err, bytes.Equal(out.Bytes(), content))
	// Output:
	// insert: done 5 packets
	// fetched: v=1 40000 bytes <nil> true
}
