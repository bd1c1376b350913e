package rpc

import (
	"time"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
)

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

// upHooks returns cc's upstream test hooks, making them if needed.
func upHooks(cc *CallConfig) *upstreamCall {
	if cc.up == nil {
		cc.up = &upstreamCall{}
	}
	return cc.up
}

// SetDropUpstreamItems makes the client side of client and bidirectional
// streams called with cc ignore the item Interests drop says to (a lost
// Interest or a lost item: the server asks again).
func SetDropUpstreamItems(cc *CallConfig, drop func(seq uint64) bool) { upHooks(cc).drop = drop }

// SetUpstreamSigner makes streams called with cc sign their items with
// node's identity instead of the caller's.
func SetUpstreamSigner(cc *CallConfig, node *ndnx.Node) { upHooks(cc).signer = node }

// SetStreamPacketHook makes the client call f with each packet of items
// it receives (seq, number of items) on the server stream of a call made
// with cc. f runs on the stream's fetcher goroutines.
func SetStreamPacketHook(cc *CallConfig, f func(seq uint64, items int)) { upHooks(cc).received = f }

// SetUpstreamPacketHook makes the client side of client and bidirectional
// streams called with cc call f with each packet it produces.
func SetUpstreamPacketHook(cc *CallConfig, f func(seq uint64, items int)) { upHooks(cc).produced = f }

// StreamReaderBuffered is how many packets r holds fetched and not yet
// fully received by the handler.
func StreamReaderBuffered(r *StreamReader) int {
	r.st.mu.Lock()
	defer r.st.mu.Unlock()
	return len(r.st.items)
}

// UploadBuffered is what the client side of an upload holds, in
// StreamBufferBytes units: items sent and not yet acknowledged by the
// server, packed or queued.
func UploadBuffered(up *Upload) int { return up.u.buffered() }

// DuplexBuffered is UploadBuffered for a bidirectional stream.
func DuplexBuffered(d *Duplex) int { return d.u.buffered() }

// StreamItemCost is what an item of n payload bytes with content type ct
// counts in StreamBufferBytes.
func StreamItemCost(n int, ct string) int {
	it := streamItem{payload: make([]byte, n), ct: ct}
	return itemCost(len(it.encode()))
}

// buffered is what the producer holds.
func (u *upstream) buffered() int {
	u.prod.mu.Lock()
	defer u.prod.mu.Unlock()
	return u.prod.held
}

// ServerStreamsHeld is what each open stream of s holds, in
// StreamBufferBytes units.
func ServerStreamsHeld(s *Server) []int {
	s.streams.mu.Lock()
	defer s.streams.mu.Unlock()
	var out []int
	for _, st := range s.streams.m {
		st.mu.Lock()
		out = append(out, st.held)
		st.mu.Unlock()
	}
	return out
}

// StreamPacketBudget is the most item bytes packed into one packet.
const StreamPacketBudget = streamPacketBudget
