package groupsync_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/object"
	"github.com/named-data/ndnd/std/object/storage"
	sec "github.com/named-data/ndnd/std/security"
	"github.com/named-data/ndnd/std/security/keychain"
	ndnsync "github.com/named-data/ndnd/std/sync"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/repo/groupsync"
)

// Example: a repo node joins a chat group as a passive member and stores
// what an ndnd application publishes with SvsALO, verified against the
// trust anchor, in order.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	group := exampleGroup()

	node, err := ndnx.Connect(ctx, ndnx.Config{Transport: ndntest.Transport(), Anchors: [][]byte{ndntest.Anchor().CertWire()}})
	if err != nil {
		panic(err)
	}
	defer node.Close()
	got := make(chan string, 8)
	cfg := groupsync.DefaultConfig()
	cfg.Group = group
	cfg.Sink = &exampleSink{data: map[string][]byte{}}
	cfg.Logger = testLogger
	cfg.OnPublication = func(_ context.Context, _ enc.Name, _ enc.Name, content []byte) { got <- string(content) }
	member, err := groupsync.Join(ctx, node, cfg)
	if err != nil {
		panic(err)
	}
	defer member.Close()

	alo, stop := examplePublisher(ctx, group, "alice")
	defer stop()
	for _, msg := range []string{"hello", "world"} {
		if _, _, err := alo.Publish(enc.Wire{[]byte(msg)}); err != nil {
			panic(err)
		}
	}
	for range 2 {
		select {
		case s := <-got:
			fmt.Println(s)
		case <-ctx.Done():
			panic(ctx.Err())
		}
	}
	st := member.Stats()
	fmt.Println(st.Publications, st.Publishers[0].Name)
	// Output:
	// hello
	// world
	// 2 /alice
}

// exampleSink keeps everything in memory.
type exampleSink struct {
	mu    sync.Mutex
	data  map[string][]byte
	state []byte
}

func (s *exampleSink) PutData(_ context.Context, wire []byte) error {
	d, _, err := spec.Spec{}.ReadData(enc.NewBufferView(wire))
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data[d.Name().String()] = wire
	return nil
}

func (s *exampleSink) LoadState(enc.Name) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state, nil
}

func (s *exampleSink) SaveState(_ context.Context, _ enc.Name, state []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state = state
	return nil
}

func exampleGroup() enc.Name {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return enc.Name{enc.NewGenericComponent("example"), enc.NewGenericComponent("chat"), enc.NewGenericComponent(hex.EncodeToString(b))}
}

// examplePublisher starts an ndnd application publishing into group with
// ndnd's SvsALO, signing with an identity certified by the test anchor.
func examplePublisher(ctx context.Context, group enc.Name, who string) (*ndnsync.SvsALO, func()) {
	id, err := ndntest.Anchor().Issue(enc.Name{enc.NewGenericComponent("example"), enc.NewGenericComponent(who)}, time.Hour)
	if err != nil {
		panic(err)
	}
	node, err := ndnx.Connect(ctx, ndnx.Config{Transport: ndntest.Transport(), Identity: id})
	if err != nil {
		panic(err)
	}
	kc := keychain.NewKeyChainMem(storage.NewMemoryStore())
	for _, err := range []error{kc.InsertCert(ndntest.Anchor().CertWire()), kc.InsertKey(id.Signer()), kc.InsertCert(id.CertWire())} {
		if err != nil {
			panic(err)
		}
	}
	tc, err := sec.NewTrustConfig(kc, keySchema{func(enc.Name) ndn.Signer { return id.Signer() }}, []enc.Name{ndntest.Anchor().CertName()})
	if err != nil {
		panic(err)
	}
	var expressed atomic.Int64
	client := object.NewClient(raceFreeEngine{node.Engine(), &expressed}, node.Store(), tc)
	alo, err := ndnsync.NewSvsALO(ndnsync.SvsAloOpts{
		Name: enc.Name{enc.NewGenericComponent(who)},
		Svs:  ndnsync.SvSyncOpts{Client: client, GroupPrefix: group},
	})
	if err != nil {
		panic(err)
	}
	if err := alo.Start(); err != nil {
		panic(err)
	}
	for _, p := range []enc.Name{alo.SyncPrefix(), alo.DataPrefix()} {
		if err := node.Register(ctx, p, nil); err != nil {
			panic(err)
		}
	}
	for expressed.Load() == 0 && ctx.Err() == nil { // see raceFreeEngine
		time.Sleep(10 * time.Millisecond)
	}
	return alo, func() {
		_ = alo.Stop()
		node.Close()
	}
}
