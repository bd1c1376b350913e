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

// StreamReaderBuffered is how many items r holds fetched and not yet
// received by the handler.
func StreamReaderBuffered(r *StreamReader) int {
	r.st.mu.Lock()
	defer r.st.mu.Unlock()
	return len(r.st.items)
}

// UploadBuffered is how many items the client side of an upload holds:
// produced and not yet acknowledged by the server.
func UploadBuffered(up *Upload) int { return up.u.buffered() }

// DuplexBuffered is UploadBuffered for a bidirectional stream.
func DuplexBuffered(d *Duplex) int { return d.u.buffered() }

// buffered is how many items the producer holds.
func (u *upstream) buffered() int {
	u.prod.mu.Lock()
	defer u.prod.mu.Unlock()
	return len(u.prod.items)
}
