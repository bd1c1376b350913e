package svsync

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/stretchr/testify/require"
)

// syncData returns a Sync Data of member (version v) announcing seq.
func syncData(t *testing.T, member string, v, seq uint64) ndn.Data {
	t.Helper()
	m, err := enc.NameFromStr(member)
	require.NoError(t, err)
	g, _ := enc.NameFromStr("/group")
	name := append(SyncDataName(m, g), enc.NewVersionComponent(v))
	content := EncodeStateVector([]Entry{{Name: m, Boot: 1, Seq: seq}})
	d, err := spec.Spec{}.MakeData(name, &ndn.DataConfig{}, enc.Wire{content}, nil)
	require.NoError(t, err)
	data, _, err := spec.Spec{}.ReadData(enc.NewWireView(d.Wire))
	require.NoError(t, err)
	return data
}

// TestOverflowKeepsLatestPerSender: with the queue full, each sender's
// latest Sync Data is kept aside (older ones are dropped and counted) and
// validated once the validators get to it, so the end of a burst is not
// lost until SVS's next periodic Sync Interest.
func TestOverflowKeepsLatestPerSender(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var checked []uint64 // seq of each checked Sync Data
	s := &Sync{
		log: slog.New(slog.DiscardHandler), base: ctx, cancel: cancel,
		queue: make(chan validateJob, 1), overflow: map[string]validateJob{}, kick: make(chan struct{}, 1),
		cfg: Config{Check: func(_ context.Context, _ ndn.Data, _ enc.Wire, sv []Entry) error {
			mu.Lock()
			checked = append(checked, sv[0].Seq)
			mu.Unlock()
			return nil
		}},
	}
	c := &syncClient{s: s}
	var called sync.WaitGroup
	push := func(member string, v, seq uint64) {
		called.Add(1)
		c.ValidateExt(ndn.ValidateExtArgs{Data: syncData(t, member, v, seq), Callback: func(bool, error) { called.Done() }})
	}
	for i := uint64(1); i <= 10; i++ {
		push("/a", i, i) // 1 queued, 10 aside, 2..9 replaced
	}
	for i := uint64(1); i <= 3; i++ {
		push("/b", i, 100+i) // 101, 102 replaced, 103 aside
	}
	require.Equal(t, uint64(10), s.dropped.Load())
	called.Add(-10) // the dropped ones are never called back

	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.validateLoop() }()
	done := make(chan struct{})
	go func() { called.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the Sync Data set aside were not validated")
	}
	cancel()
	s.wg.Wait()
	require.ElementsMatch(t, []uint64{1, 10, 103}, checked)
	require.Equal(t, uint64(1), checked[0], "the queue first")
}
