package rpc

import "time"

// SetDropStreamItems makes s ignore the item Interests drop says to, as a
// lossy path would. Set before Start.
func SetDropStreamItems(s *Server, drop func(seq uint64) bool) { s.dropItem = drop }

// SetStreamItemLifetime shortens the client's item Interest lifetime (so
// loss is recovered quickly in tests) and returns a restore function.
func SetStreamItemLifetime(d time.Duration) (restore func()) {
	old := streamItemLifetime
	streamItemLifetime = d
	return func() { streamItemLifetime = old }
}
