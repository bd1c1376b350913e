package retry

import (
	"testing"
	"time"
)

// legal lists the transitions a Breaker may make.
var legal = map[change]bool{
	{Closed, Open}:     true,
	{Open, HalfOpen}:   true,
	{HalfOpen, Open}:   true,
	{HalfOpen, Closed}: true,
}

// FuzzBreaker drives a Breaker with a random sequence of clock steps (some
// backwards), Allow, done (including repeated done) and State calls, and
// checks against a model built from OnStateChange that:
//   - every transition is legal and starts from the state last reported;
//   - Allow never admits while open before OpenFor has passed, nor while
//     HalfOpenProbes probes of the current half-open period are in flight;
//   - a closed breaker opens only in a done call reporting Failure, after at
//     least MinRequests outcomes;
//   - State agrees with the model, and nothing panics.
func FuzzBreaker(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0})
	f.Add([]byte{1, 2, 3, 4, 5, 6, 1, 1, 1, 2, 1, 2, 9, 1, 1, 2, 9, 0, 200, 1, 1, 1, 2, 0, 2, 4})
	f.Add([]byte{3, 1, 0, 1, 10, 2, 1, 1, 1, 1, 2, 1, 2, 5, 2, 9, 0, 255, 1, 1, 1, 2, 0, 2, 3, 0, 60, 1, 2, 0, 6})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<14 {
			data = data[:1<<14] // longer runs add nothing but time
		}
		next := func() int {
			if len(data) == 0 {
				return 0
			}
			v := int(data[0])
			data = data[1:]
			return v
		}
		const unit = 100 * time.Millisecond
		cfg := BreakerConfig{
			HalfOpenProbes:    1 + next()%4,
			HalfOpenSuccesses: 1 + next()%4,
			MinRequests:       1 + next()%8,
			FailureThreshold:  float64(1+next()%255) / 255,
			OpenFor:           time.Duration(1+next()%32) * unit,
			Buckets:           1 + next()%8,
		}
		cfg.Window = time.Duration(cfg.Buckets*(1+next()%8)) * unit

		type permit struct {
			done   func(time.Time, Outcome)
			period int  // model period when admitted
			probe  bool // admitted while half-open
			open   bool // not yet reported
		}
		var (
			state    = Closed
			period   int // incremented on every transition
			openedAt time.Time
			now      = t0
			permits  []*permit
			inDone   *Outcome // outcome of the done call running, if any
			outcomes int      // outcomes reported in the current closed period (upper bound of the window)
			probes   int      // probes of the current half-open period not yet reported
		)
		cfg.OnStateChange = func(from, to State) {
			if from != state || !legal[change{from, to}] {
				t.Fatalf("transition %v->%v, model state %v", from, to, state)
			}
			if from == Closed && to == Open {
				if inDone == nil || *inDone != Failure {
					t.Fatalf("closed->open outside a failure report")
				}
				if outcomes < cfg.MinRequests {
					t.Fatalf("opened after %d outcomes, MinRequests %d", outcomes, cfg.MinRequests)
				}
			}
			if to == Open {
				openedAt = now
			}
			if to == Closed {
				outcomes = 0
			}
			probes = 0
			state = to
			period++
		}
		b, err := NewBreaker(cfg)
		if err != nil {
			t.Fatal(err)
		}

		for len(data) > 0 {
			switch op := next(); op % 5 {
			case 0: // advance, sometimes backwards (the Breaker clamps)
				d := time.Duration(next()) * unit / 4
				if op&0x80 != 0 {
					b.State(now.Add(-d))
				} else {
					now = now.Add(d)
				}
			case 1, 2: // allow
				before, inflight := state, probes
				done, err := b.Allow(now)
				if err != nil {
					if err != ErrOpen || done != nil {
						t.Fatalf("Allow: %v, done %v", err, done != nil)
					}
					continue
				}
				if before == Open && now.Sub(openedAt) < cfg.OpenFor {
					t.Fatalf("admitted while open %v < OpenFor %v", now.Sub(openedAt), cfg.OpenFor)
				}
				if state == Open {
					t.Fatalf("admitted while open")
				}
				if state == HalfOpen && before == HalfOpen && inflight >= cfg.HalfOpenProbes {
					t.Fatalf("admitted probe with %d in flight", inflight)
				}
				permits = append(permits, &permit{done: done, period: period, probe: state == HalfOpen, open: true})
				if state == HalfOpen {
					if probes++; probes > cfg.HalfOpenProbes {
						t.Fatalf("%d probes in flight, limit %d", probes, cfg.HalfOpenProbes)
					}
				}
			case 3: // done, possibly again for a reported call
				if len(permits) == 0 {
					continue
				}
				p := permits[next()%len(permits)]
				o := Outcome(next() % 3)
				if p.open && p.period == period {
					if state == Closed && o != Ignored {
						outcomes++
					}
					if p.probe {
						probes--
					}
				}
				p.open = false
				inDone = &o
				p.done(now, o)
				inDone = nil
			case 4:
				if got := b.State(now); got != state {
					t.Fatalf("State %v, model %v", got, state)
				}
			}
			b.mu.Lock()
			probes := b.probes
			b.mu.Unlock()
			if probes < 0 || probes > cfg.HalfOpenProbes {
				t.Fatalf("breaker counts %d probes, limit %d", probes, cfg.HalfOpenProbes)
			}
		}
	})
}
