package session

import (
	"fmt"

	"github.com/ndn-invoke/ndn-invoke/security"
)

// WindowSize is how far behind the highest accepted SignatureSeqNum a
// reordered Interest may arrive and still be accepted, as in DTLS and IPsec
// anti-replay (RFC 6479 uses the same bitmap idea).
const WindowSize = 1024

// window is a sliding anti-replay window over sequence numbers. It accepts
// seq iff seq > 0, seq > top-WindowSize and seq was not accepted before.
// bits holds one bit per sequence number in (top-WindowSize, top], at index
// seq % WindowSize. The zero value is an empty window; seq 0 is never
// accepted (NextSeq starts at 1).
//
// window is a pure value with no lock; Session guards it with its mu.
type window struct {
	top  uint64
	bits [WindowSize / 64]uint64
}

// check reports, without changing w, whether seq would be accepted. Errors
// wrap security.ErrReplay.
func (w *window) check(seq uint64) error {
	switch {
	case seq == 0:
		return fmt.Errorf("session: SignatureSeqNum 0: %w", security.ErrReplay)
	case seq > w.top:
		return nil
	case w.top-seq >= WindowSize:
		return fmt.Errorf("session: SignatureSeqNum %d is older than the window (highest %d): %w", seq, w.top, security.ErrReplay)
	case w.bits[(seq%WindowSize)/64]&(1<<(seq%64)) != 0:
		return fmt.Errorf("session: SignatureSeqNum %d already used: %w", seq, security.ErrReplay)
	}
	return nil
}

// accept records seq, which check has just passed, sliding the window
// forward when seq is the new highest.
func (w *window) accept(seq uint64) {
	if seq > w.top {
		if seq-w.top >= WindowSize {
			clear(w.bits[:])
		} else {
			// Clear the slots of (top, seq], which held numbers that have now
			// slid out of the window.
			for s := w.top + 1; s <= seq; s++ {
				w.bits[(s%WindowSize)/64] &^= 1 << (s % 64)
			}
		}
		w.top = seq
	}
	w.bits[(seq%WindowSize)/64] |= 1 << (seq % 64)
}
