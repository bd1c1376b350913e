package pubsub_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/pubsub"
)

// BenchmarkPubSub publishes b.N 100-byte messages from one publisher to 1
// and 3 subscribers and reports delivered messages/s (per subscriber) and
// publish-to-delivery latency p50/p99.
func BenchmarkPubSub(b *testing.B) {
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("subs=%d", n), func(b *testing.B) {
			group := ndntest.Prefix(b)
			var mu sync.Mutex
			var lat []time.Duration
			delivered := 0
			for i := range n {
				s := member(b, group, fmt.Sprintf("s%d", i), nil)
				_, err := s.Subscribe(pubsub.SubscribeConfig{Topic: group, Handler: func(_ context.Context, m *pubsub.Message) error {
					mu.Lock()
					lat = append(lat, time.Since(m.Published))
					delivered++
					mu.Unlock()
					return nil
				}})
				require.NoError(b, err)
			}
			pub := member(b, group, "pub", nil)
			tp, err := pub.Advertise(join(group, "t"))
			require.NoError(b, err)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			msg := make([]byte, 100)
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				if err := tp.Publish(ctx, msg); err != nil {
					b.Fatal(err)
				}
			}
			waitFor(b, time.Minute, "all delivered", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return delivered >= n*b.N
			})
			el := time.Since(start)
			b.StopTimer()
			mu.Lock()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(b.N)/el.Seconds(), "msgs/s")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			mu.Unlock()
		})
	}
}
