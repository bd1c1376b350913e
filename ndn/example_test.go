package ndn_test

import (
	"context"
	"fmt"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
)

// Example: a producer serves signed Data under a prefix on a real
// forwarder; a consumer fetches it and verifies the signature chain to the
// trust anchor (fetching the producer's certificate over NDN).
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	anchor := ndntest.Anchor()
	producerID, err := anchor.Issue(enc.Name{enc.NewGenericComponent("example"), enc.NewGenericComponent("producer")}, time.Hour)
	if err != nil {
		panic(err)
	}

	producer, err := ndn.Connect(ctx, ndn.Config{Transport: ndntest.Transport(), Identity: producerID})
	if err != nil {
		panic(err)
	}
	defer producer.Close()
	prefix, _ := enc.NameFromStr("/example/greetings")
	_ = producer.Handle(prefix, func(_ context.Context, in *ndn.Incoming) {
		w, err := producer.SignData(in.Interest.Name(), nil, enc.Wire{[]byte("hello")})
		if err == nil {
			_ = in.Reply(w)
		}
	})
	if err := producer.Register(ctx, prefix, nil); err != nil {
		panic(err)
	}

	consumer, err := ndn.Connect(ctx, ndn.Config{Transport: ndntest.Transport(), Anchors: [][]byte{anchor.CertWire()}})
	if err != nil {
		panic(err)
	}
	defer consumer.Close()
	d, err := consumer.Fetch(ctx, prefix.Append(enc.NewGenericComponent("en")), false, false)
	if err != nil {
		panic(err)
	}
	key, err := consumer.VerifyData(ctx, d)
	fmt.Println(string(d.Data.Content().Join()), key.Prefix(2), err)
	// Output: hello /example/producer <nil>
}
