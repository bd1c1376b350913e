package session

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/ndn-invoke/ndn-invoke/security"
)

func TestWindow(t *testing.T) {
	tests := []struct {
		name   string
		accept []uint64 // accepted first, in order
		seq    uint64
		ok     bool
	}{
		{name: "zero", seq: 0},
		{name: "first", seq: 1, ok: true},
		{name: "far first", seq: 1 << 62, ok: true},
		{name: "max", accept: []uint64{5}, seq: ^uint64(0), ok: true},
		{name: "seen", accept: []uint64{1, 2, 3}, seq: 2},
		{name: "gap", accept: []uint64{1, 3}, seq: 2, ok: true},
		{name: "oldest slot", accept: []uint64{WindowSize}, seq: 1, ok: true},
		{name: "just below", accept: []uint64{WindowSize + 1}, seq: 1},
		{name: "slot reused after slide", accept: []uint64{3, 3 + WindowSize}, seq: 3 + 2*WindowSize, ok: true},
		{name: "slot cleared after slide", accept: []uint64{10, 10 + WindowSize - 1, 9 + 2*WindowSize}, seq: 10 + WindowSize, ok: true},
		{name: "big jump clears", accept: []uint64{1, 2, 5 * WindowSize}, seq: 5*WindowSize - 1, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w window
			for _, s := range tt.accept {
				if err := w.check(s); err != nil {
					t.Fatalf("setup: check(%d) = %v", s, err)
				}
				w.accept(s)
			}
			err := w.check(tt.seq)
			if tt.ok != (err == nil) {
				t.Fatalf("check(%d) = %v, want ok=%v", tt.seq, err, tt.ok)
			}
			if err != nil && !errors.Is(err, security.ErrReplay) {
				t.Fatalf("error %v does not match ErrReplay", err)
			}
		})
	}
}

// FuzzReplayWindow checks the window against a model that remembers every
// accepted number forever: the window never accepts a number twice, and it
// accepts exactly the numbers that are new, non-zero and within WindowSize
// of the highest accepted. Each 2-byte step picks a sequence number near
// the current top (to exercise the edges) or far ahead.
func FuzzReplayWindow(f *testing.F) {
	f.Add([]byte{0, 1, 0, 1, 0, 5, 0, 3})
	f.Add([]byte{0x83, 0xff, 0x00, 0x01, 0x43, 0xff, 0x43, 0xfe})
	f.Add([]byte{0xc0, 0x10, 0x00, 0x00, 0x80, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		var w window
		seen := make(map[uint64]bool)
		var top uint64
		for len(data) >= 2 {
			v := binary.BigEndian.Uint16(data)
			data = data[2:]
			var seq uint64
			off := uint64(v & 0x3fff)
			switch v >> 14 {
			case 0: // near the top, below
				seq = top - min(top, off%(WindowSize+8))
			case 1: // near the top, above
				seq = top + off%(WindowSize+8)
			case 2: // far ahead
				seq = top + off*WindowSize
			case 3: // absolute small
				seq = off
			}
			want := seq != 0 && !seen[seq] && (seq > top || top-seq < WindowSize)
			err := w.check(seq)
			if (err == nil) != want {
				t.Fatalf("seq %d (top %d, seen %v): check = %v, want ok=%v", seq, top, seen[seq], err, want)
			}
			if err != nil {
				if !errors.Is(err, security.ErrReplay) {
					t.Fatalf("error %v is not ErrReplay", err)
				}
				continue
			}
			if seen[seq] {
				t.Fatalf("seq %d accepted twice", seq)
			}
			w.accept(seq)
			seen[seq] = true
			top = max(top, seq)
			if w.top != top {
				t.Fatalf("window top %d, model %d", w.top, top)
			}
		}
	})
}
