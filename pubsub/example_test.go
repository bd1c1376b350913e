package pubsub_test

import (
	"context"
	"fmt"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/pubsub"
)

// A subscriber prints, in order, what a publisher publishes on a topic;
// the publisher lingers with Flush before it closes.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	group := enc.Name{enc.NewGenericComponent("example"), enc.NewGenericComponent(fmt.Sprint(time.Now().UnixNano()))}
	var nodes []*ndnx.Node
	defer func() {
		for _, n := range nodes {
			n.Close()
		}
	}()
	start := func(who string) *pubsub.PubSub {
		id, err := ndntest.Anchor().Issue(enc.Name{enc.NewGenericComponent("example"), enc.NewGenericComponent(who)}, time.Hour)
		if err != nil {
			panic(err)
		}
		node, err := ndnx.Connect(ctx, ndnx.Config{
			Transport: ndntest.Transport(), Identity: id, Anchors: [][]byte{ndntest.Anchor().CertWire()}, Logger: quiet,
		})
		if err != nil {
			panic(err)
		}
		nodes = append(nodes, node)
		cfg := pubsub.DefaultConfig()
		cfg.Group, cfg.Node, cfg.Logger = group, node, quiet
		ps, err := pubsub.New(cfg)
		if err != nil {
			panic(err)
		}
		if err := ps.Start(ctx); err != nil {
			panic(err)
		}
		return ps
	}
	sub := start("sub")
	defer sub.Close()
	got := make(chan *pubsub.Message, 3)
	if _, err := sub.Subscribe(pubsub.SubscribeConfig{Topic: join(group, "chat"), Chan: got}); err != nil {
		panic(err)
	}

	pub := start("pub")
	chat, _ := pub.Advertise(join(group, "chat"))
	for _, m := range []string{"hello", "world", "bye"} {
		_ = chat.Publish(ctx, []byte(m))
	}
	_ = chat.Flush(ctx)
	pub.Close()

	for range 3 {
		fmt.Println(string((<-got).Payload))
	}
	// Output:
	// hello
	// world
	// bye
}
