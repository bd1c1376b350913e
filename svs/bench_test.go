package svs_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/svs"
)

// BenchmarkMembership10 measures, for 10 members on one forwarder (each
// with a node of its own, connected beforehand):
//
//   - ms/converge: from starting the 10 Joins at once until every member
//     has seen the 9 others alive;
//   - ms/suspect, ms/failed: from closing one member without Leave until
//     every other member sees it suspect, then failed, with
//     HeartbeatPeriod 200ms, SuspectAfter 1s, FailedAfter 2s (silence
//     counts from the last heartbeat heard, which is up to 200ms before
//     the close, so expect 800-1000+ and 1800-2000+).
//
// Run: go test -run '^$' -bench Membership10 -benchtime 3x ./svs
func BenchmarkMembership10(b *testing.B) {
	const n = 10
	var converge, suspect, failed time.Duration
	for i := range b.N {
		b.StopTimer()
		group := ndntest.Prefix(b)
		nodes := make([]*ndnx.Node, n)
		for k := range nodes {
			nodes[k] = ndntest.Connect(b, ndnx.Config{Identity: ndntest.Identity(b, fmt.Sprintf("b%d-%d", i, k)), Logger: testLogger})
		}
		var mu sync.Mutex
		seen := make([]int, n) // members each one saw join
		status := make([]map[string]svs.Status, n)
		reached := map[string]time.Time{} // first time every member reached a milestone
		check := func() {
			all := func(pred func(k int) bool) bool {
				for k := range n {
					if !pred(k) {
						return false
					}
				}
				return true
			}
			if _, ok := reached["converge"]; !ok && all(func(k int) bool { return seen[k] == n-1 }) {
				reached["converge"] = time.Now()
			}
		}
		victim := "" // set once converged
		countStatus := func(st svs.Status) bool {
			if victim == "" {
				return false
			}
			for k := 1; k < n; k++ {
				if status[k][victim] != st {
					return false
				}
			}
			return true
		}
		groups := make([]*svs.Group, n)
		errs := make(chan error, n)
		start := time.Now()
		b.StartTimer()
		for k := range n {
			status[k] = map[string]svs.Status{}
			cfg := testConfig(group)
			cfg.Node = nodes[k]
			cfg.OnMemberChange = func(_ context.Context, e svs.MemberEvent) {
				mu.Lock()
				defer mu.Unlock()
				if e.Previous == svs.StatusNone {
					seen[k]++
				}
				status[k][e.Member.Name.String()] = e.Member.Status
				check()
				if countStatus(svs.StatusSuspect) {
					if _, ok := reached["suspect"]; !ok {
						reached["suspect"] = time.Now()
					}
				}
				if countStatus(svs.StatusFailed) {
					if _, ok := reached["failed"]; !ok {
						reached["failed"] = time.Now()
					}
				}
			}
			go func() {
				g, err := svs.Join(ctxT(b, 20*time.Second), cfg)
				groups[k] = g
				errs <- err
			}()
		}
		for range n {
			require.NoError(b, <-errs)
		}
		waitFor(b, 20*time.Second, "convergence", func() bool {
			mu.Lock()
			defer mu.Unlock()
			_, ok := reached["converge"]
			return ok
		})
		b.StopTimer()
		mu.Lock()
		converge += reached["converge"].Sub(start)
		victim = groups[0].Name().String()
		mu.Unlock()

		closed := time.Now()
		groups[0].Close()
		waitFor(b, 20*time.Second, "failure detected", func() bool {
			mu.Lock()
			defer mu.Unlock()
			_, ok := reached["failed"]
			return ok
		})
		mu.Lock()
		suspect += reached["suspect"].Sub(closed)
		failed += reached["failed"].Sub(closed)
		mu.Unlock()
		for _, g := range groups[1:] {
			g.Close()
		}
	}
	b.ReportMetric(float64(converge.Milliseconds())/float64(b.N), "ms/converge")
	b.ReportMetric(float64(suspect.Milliseconds())/float64(b.N), "ms/suspect")
	b.ReportMetric(float64(failed.Milliseconds())/float64(b.N), "ms/failed")
}
