package store_test

import (
	"context"
	"fmt"
	"os"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/security/signer"

	"github.com/ndn-invoke/ndn-invoke/repo/store"
)

func Example() {
	dir, err := os.MkdirTemp("", "store-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	s, err := store.Open(dir, store.DefaultConfig())
	if err != nil {
		panic(err)
	}
	defer s.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	obj := enc.Name{enc.NewGenericComponent("example"), enc.NewGenericComponent("doc")}
	for _, v := range []uint64{1, 2} {
		name := obj.Append(enc.NewVersionComponent(v))
		data, _ := spec.Spec{}.MakeData(name, &ndn.DataConfig{}, enc.Wire{[]byte(fmt.Sprint("version ", v))}, signer.NewSha256Signer())
		if err := s.Put(ctx, name, data.Wire.Join(), store.PutOptions{}); err != nil { // durable on return
			panic(err)
		}
	}

	wire, err := s.Get(obj, true, false, time.Now()) // CanBePrefix: newest version
	if err != nil {
		panic(err)
	}
	data, _, _ := spec.Spec{}.ReadData(enc.NewBufferView(wire))
	fmt.Println(data.Name(), string(data.Content().Join()))

	names, next, _ := s.List(obj, "", 10)
	fmt.Println(len(names), next == "")
	// Output:
	// /example/doc/v=2 version 2
	// 2 true
}
