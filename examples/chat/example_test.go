package chat_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/examples/chat"
	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
)

func TestMain(m *testing.M) { ndntest.Main(m) }

// Two participants on the test binary's real forwarder, alice and bob,
// chat in a room: each sees the other's messages with the nick.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	room := enc.Name{enc.NewGenericComponent("example"), enc.NewGenericComponent("chat"),
		enc.NewGenericComponent(fmt.Sprint("room-", time.Now().UnixNano()))}
	var nodes []*ndnx.Node
	defer func() {
		for _, n := range nodes {
			n.Close()
		}
	}()
	join := func(nick string) *chat.Room {
		id, err := ndntest.Anchor().Issue(enc.Name{enc.NewGenericComponent("example"),
			enc.NewGenericComponent("users"), enc.NewGenericComponent(nick)}, time.Hour)
		if err != nil {
			panic(err)
		}
		node, err := ndnx.Connect(ctx, ndnx.Config{Transport: ndntest.Transport(), Identity: id,
			Anchors: [][]byte{ndntest.Anchor().CertWire()}})
		if err != nil {
			panic(err)
		}
		nodes = append(nodes, node)
		r, err := chat.Join(ctx, chat.Config{Node: node, Room: room, Nick: nick})
		if err != nil {
			panic(err)
		}
		return r
	}
	alice, bob := join("alice"), join("bob")
	defer alice.Close()
	defer bob.Close()

	say := func(from, to *chat.Room, text string) {
		if err := from.Send(ctx, text); err != nil {
			panic(err)
		}
		select {
		case m := <-to.Messages():
			fmt.Printf("%s: %s\n", m.Nick, m.Text)
		case <-ctx.Done():
			fmt.Println("timed out")
		}
	}
	say(alice, bob, "hi bob")
	say(bob, alice, "hello alice")
	// Output:
	// alice: hi bob
	// bob: hello alice
}
