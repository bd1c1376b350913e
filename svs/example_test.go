package svs_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/svs"
)

// Example: two members join a group on the test forwarder, see each other
// alive, exchange an event, and one asks the group a question.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	group := enc.Name{enc.NewGenericComponent("example"), enc.NewGenericComponent("ops"), enc.NewGenericComponent(fmt.Sprint(time.Now().UnixNano()))}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	events := make(chan svs.Event, 4)
	met := make(chan string, 4) // "alice" when alice sees another member
	var nodes []*ndnx.Node
	defer func() {
		for _, n := range nodes {
			n.Close()
		}
	}()
	join := func(who string, onEvent svs.EventFunc) *svs.Group {
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
		cfg := svs.DefaultConfig()
		cfg.Group = group
		cfg.Node = node
		cfg.Logger = quiet
		cfg.OnEvent = onEvent
		cfg.OnMemberChange = func(_ context.Context, e svs.MemberEvent) {
			if e.Previous == svs.StatusNone && e.Member.Status == svs.StatusAlive {
				met <- who
			}
		}
		cfg.QueryHandler = svs.QueryHandlerFunc(func(_ context.Context, q *svs.Query) ([]byte, error) {
			return []byte(who + " is fine"), nil
		})
		g, err := svs.Join(ctx, cfg)
		if err != nil {
			panic(err)
		}
		nodes = append(nodes, node)
		return g
	}
	alice := join("alice", nil)
	bob := join("bob", func(_ context.Context, e svs.Event) { events <- e })
	defer alice.Close()
	defer bob.Close()

	for range 2 { // each sees the other join
		select {
		case <-met:
		case <-ctx.Done():
			panic(ctx.Err())
		}
	}
	fmt.Println("alice sees:", alive(alice))

	if err := alice.SendEvent(ctx, "deploy", []byte("v1.2")); err != nil {
		panic(err)
	}
	e := <-events
	fmt.Printf("bob got %s=%s from %s\n", e.Name, e.Payload, e.From)

	answers, err := alice.Query(ctx, "health", nil, svs.QueryOptions{MaxAnswers: 2, Timeout: 5 * time.Second})
	if err != nil {
		panic(err)
	}
	var lines []string
	for _, a := range answers {
		lines = append(lines, fmt.Sprintf("%s: %s", a.From, a.Payload))
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	// Output:
	// alice sees: [/example/alice /example/bob]
	// bob got deploy=v1.2 from /example/alice
	// /example/alice: alice is fine
	// /example/bob: bob is fine
}

// alive lists the members g sees alive.
func alive(g *svs.Group) []string {
	var out []string
	for _, m := range g.Members() {
		if m.Status == svs.StatusAlive {
			out = append(out, m.Name.String())
		}
	}
	return out
}
