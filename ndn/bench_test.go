package ndn_test

import (
	"context"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	"github.com/named-data/ndnd/std/types/optional"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
)

// BenchmarkRoundTrip measures one Interest/Data exchange through the real
// forwarder. "digest" (unsigned Interest, DigestSha256 Data) is the baseline
// of the run; "signed" adds an Ed25519 signature on the Interest, its
// verification (chain, signature, replay) at the producer, an Ed25519
// signature on the Data and its verification at the consumer. Report
// signed as a ratio of digest from the same run.
func BenchmarkRoundTrip(b *testing.B) {
	for _, mode := range []string{"digest", "signed"} {
		b.Run(mode, func(b *testing.B) {
			signed := mode == "signed"
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			var pcfg, ccfg ndnx.Config
			if signed {
				pcfg.Identity = ndntest.Identity(b, "bench-producer")
				ccfg.Identity = ndntest.Identity(b, "bench-consumer")
			}
			producer := ndntest.Connect(b, pcfg)
			consumer := ndntest.Connect(b, ccfg)
			prefix := ndntest.Prefix(b)
			_ = producer.Handle(prefix, func(ctx context.Context, in *ndnx.Incoming) {
				if signed {
					if _, err := producer.Verifier().VerifyInterest(ctx, in.Interest, in.SigCovered); err != nil {
						return
					}
				}
				w, err := producer.SignData(in.Interest.Name(), nil, enc.Wire{[]byte("result")})
				if err == nil {
					_ = in.Reply(w)
				}
			})
			if err := producer.Register(ctx, prefix, nil); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			i := 0
			for b.Loop() {
				i++
				in, err := consumer.MakeInterest(ctx, prefix.Append(enc.NewSequenceNumComponent(uint64(i))),
					&ndn.InterestConfig{Lifetime: optional.Some(2 * time.Second)}, enc.Wire{[]byte("args")}, signed)
				if err != nil {
					b.Fatal(err)
				}
				d, err := consumer.Express(ctx, in)
				if err != nil {
					b.Fatal(err)
				}
				if signed {
					if _, err := consumer.VerifyData(ctx, d); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
