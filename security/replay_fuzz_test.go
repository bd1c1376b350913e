package security

import (
	"errors"
	"testing"
	"time"
)

// FuzzReplayGuard drives a ReplayGuard with a sequence of operations decoded
// from the input and checks it against a reference model that remembers every
// accepted (key, nonce) pair with all its SignatureTimes, without bound.
//
// data[0] picks the configuration; the rest is read 3 bytes per operation:
//
//	op%4 == 0: now += a*100ms
//	op%4 == 1: now -= (a%8)*100ms (the caller's clock stepping back)
//	op%4 == 2: Accept a new input: key a%6, nonce from b, SignatureTime
//	           now + (op>>2 - 32)*100ms (absent if op>>2 == 63),
//	           SeqNum (a>>3)%16 if a&0x80
//	op%4 == 3: Accept an exact copy of a previously accepted input
//
// Checked after every Accept:
//   - an error matches ErrUnauthenticated and exactly one of ErrReplay and
//     ErrTimeSkew, and ErrTimeSkew exactly when the time rule is broken;
//   - a (key, nonce) pair is accepted again only with a strictly later
//     SignatureTime, so a replay is never accepted; with the large
//     configuration (no bound ever reached) only once every earlier time has
//     left the grace window;
//   - with the large configuration and a clock that never stepped back, a
//     valid Interest whose nonce is new (or expired) for its key is accepted;
//   - Len stays within MaxKeys and MaxKeys*MaxNoncesPerKey.
func FuzzReplayGuard(f *testing.F) {
	f.Add([]byte{0x00, 2, 0, 0, 3, 0, 0})
	f.Add([]byte{0x01, 2, 1, 1, 2, 1, 2, 3, 0, 0, 0, 200, 0, 3, 0, 0, 2, 1, 1})
	f.Add([]byte{0x7e, 130, 0, 1, 134, 1, 2, 138, 2, 3, 142, 3, 4, 3, 0, 0, 3, 1, 0, 3, 2, 0, 1, 5, 0, 3, 0, 0})
	f.Add([]byte{0x81, 130, 0x80, 1, 130, 0x88, 2, 3, 0, 0, 130, 0x80, 3})
	f.Add([]byte{0x03, 130, 0, 0xf8, 130, 0, 0xf0, 130, 0, 0, 0, 50, 0, 1, 7, 0, 3, 0, 0})
	f.Add([]byte{0x1f, 2, 0, 0, 2, 1, 0, 2, 2, 0, 2, 3, 0, 2, 4, 0, 2, 5, 0, 3, 0, 0, 3, 1, 0, 3, 2, 0})

	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		mode := data[0]
		data = data[1:]
		large := mode&1 == 1
		cfg := ReplayConfig{
			GracePeriod:     time.Duration(1+(mode>>1)&3) * time.Second,
			MaxKeys:         1 + int(mode>>3)&3,
			MaxNoncesPerKey: 1 + int(mode>>5)&3,
			RequireSeqNum:   mode&0x80 != 0,
		}
		if large {
			// More than the 6 keys and 16 nonces per key the operations can name.
			cfg.MaxKeys, cfg.MaxNoncesPerKey = 64, 64
		}
		g, err := NewReplayGuard(cfg)
		if err != nil {
			t.Fatalf("NewReplayGuard(%+v): %v", cfg, err)
		}

		type pair struct{ key, nonce string }
		accepted := make(map[pair][]time.Time) // the reference model
		var history []ReplayInput              // accepted inputs, for op 3
		now, maxNow := replayT0, replayT0
		steppedBack := false
		nonceBuf := make([]byte, 0, 80) // reused, as a decoder would

		for ; len(data) >= 3; data = data[3:] {
			op, a, b := data[0], data[1], data[2]
			var in ReplayInput
			switch op % 4 {
			case 0:
				now = now.Add(time.Duration(a) * 100 * time.Millisecond)
				if now.After(maxNow) {
					maxNow = now
				}
				continue
			case 1:
				if a%8 != 0 {
					now = now.Add(-time.Duration(a%8) * 100 * time.Millisecond)
					steppedBack = true
				}
				continue
			case 2:
				in.Key = string(rune('a' + a%6))
				nonceBuf = nonceBuf[:0]
				switch b >> 3 {
				case 31: // absent
				case 30: // too long
					nonceBuf = append(nonceBuf, make([]byte, replayMaxNonceLen+1)...)
				case 29: // longest allowed
					nonceBuf = append(nonceBuf, make([]byte, replayMaxNonceLen)...)
					nonceBuf[0] = b
				default:
					nonceBuf = append(nonceBuf, '0'+b%8)
				}
				in.Nonce = nonceBuf
				if op>>2 != 63 { // 63: SignatureTime absent
					in.SigTime = now.Add(time.Duration(int(op>>2)-32) * 100 * time.Millisecond)
				}
				if a&0x80 != 0 {
					seq := uint64(a>>3) % 16
					in.SeqNum = &seq
				}
			case 3:
				if len(history) == 0 {
					continue
				}
				in = history[int(a)%len(history)]
			}

			err := g.Accept(now, in)

			// Error classes.
			timeBad := in.SigTime.IsZero() || in.SigTime.Sub(now) > cfg.GracePeriod || now.Sub(in.SigTime) > cfg.GracePeriod
			nonceBad := len(in.Nonce) == 0 || len(in.Nonce) > replayMaxNonceLen
			seqBad := cfg.RequireSeqNum && in.SeqNum == nil
			if err != nil {
				skew, replay := errors.Is(err, ErrTimeSkew), errors.Is(err, ErrReplay)
				if skew == replay || !errors.Is(err, ErrUnauthenticated) {
					t.Fatalf("Accept(%v, %+v): error %v has the wrong classes", now, in, err)
				}
				if skew != timeBad {
					t.Fatalf("Accept(%v, %+v) = %v; time rule broken: %v", now, in, err, timeBad)
				}
			} else if timeBad || nonceBad || seqBad {
				t.Fatalf("Accept(%v, %+v) accepted an invalid input (time %v nonce %v seq %v)", now, in, timeBad, nonceBad, seqBad)
			}

			// The model.
			p := pair{in.Key, string(in.Nonce)}
			prior := accepted[p]
			allExpired := true
			for _, pt := range prior {
				if now.Sub(pt) <= cfg.GracePeriod {
					allExpired = false
				}
			}
			if err == nil {
				for _, pt := range prior {
					if !in.SigTime.After(pt) {
						t.Fatalf("Accept(%v, %+v): replay accepted; (key, nonce) already accepted at %v", now, in, pt)
					}
					if large && maxNow.Sub(pt) <= cfg.GracePeriod {
						t.Fatalf("Accept(%v, %+v): nonce reused inside the window of its acceptance at %v", now, in, pt)
					}
				}
				accepted[p] = append(prior, in.SigTime)
				kept := in
				kept.Nonce = append([]byte(nil), in.Nonce...)
				if len(history) < 64 {
					history = append(history, kept)
				} else {
					history[int(b)%len(history)] = kept
				}
			} else if large && !steppedBack && !timeBad && !nonceBad && in.SeqNum == nil && !cfg.RequireSeqNum && allExpired {
				t.Fatalf("Accept(%v, %+v) = %v; want accepted (nothing forced a floor up)", now, in, err)
			}

			keys, nonces := g.Len()
			if keys < 0 || keys > cfg.MaxKeys || nonces < 0 || nonces > cfg.MaxKeys*cfg.MaxNoncesPerKey {
				t.Fatalf("Len() = %d, %d out of bounds for %+v", keys, nonces, cfg)
			}
		}
	})
}
