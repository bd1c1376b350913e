package main

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/svs"
)

// TestGroupCommands: members lists a group's members, event reaches them,
// query prints their answers; each command leaves again.
func TestGroupCommands(t *testing.T) {
	callerEnv(t)
	group := ndntest.Prefix(t)
	var mu sync.Mutex
	var events []svs.Event
	var left []string
	for _, who := range []string{"worker1", "worker2"} {
		node := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, who)})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		g, err := svs.Join(ctx, svs.Config{
			Group: group, Node: node,
			OnEvent: func(_ context.Context, e svs.Event) {
				mu.Lock()
				events = append(events, e)
				mu.Unlock()
			},
			OnMemberChange: func(_ context.Context, e svs.MemberEvent) {
				if e.Member.Status == svs.StatusLeft {
					mu.Lock()
					left = append(left, e.Member.Name.String())
					mu.Unlock()
				}
			},
			QueryHandler: svs.QueryHandlerFunc(func(_ context.Context, q *svs.Query) ([]byte, error) {
				return []byte(who + " load " + string(q.Payload)), nil
			}),
		})
		cancel()
		require.NoError(t, err)
		t.Cleanup(func() { g.Close() })
	}

	code, out, errOut := invoke(t, "", "members", group.String(), "--wait", "2s")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "MEMBER")
	require.Equal(t, 3, strings.Count(out, " alive "), out) // the workers and this command
	require.Contains(t, out, "(this command)")

	code, _, errOut = invoke(t, "", "event", group.String(), "deploy", "v2", "--linger", "2s")
	require.Equal(t, 0, code, errOut)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, e := range events {
			if e.Name == "deploy" && string(e.Payload) == "v2" {
				n++
			}
		}
		return n == 2
	}, 10*time.Second, 50*time.Millisecond, "both members get the event")

	code, out, errOut = invoke(t, "", "query", group.String(), "load", "now", "--timeout", "3s", "--max", "2")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "worker1 load now")
	require.Contains(t, out, "worker2 load now")
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(left) >= 2 // the commands leave: both workers see it
	}, 10*time.Second, 50*time.Millisecond)

	code, _, errOut = invoke(t, "", "members")
	require.Equal(t, 2, code, errOut)
	require.Contains(t, errOut, "help members")
}
