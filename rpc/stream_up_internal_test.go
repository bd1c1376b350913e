package rpc

import (
	"testing"
	"time"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
)

// TestServeItemKeepsLiveInterests: a consumer waiting long for an item asks
// again every lifetime; the producer must keep the live Interest rather
// than the expired ones, or the item, once produced, would answer only
// those and wait one more lifetime.
func TestServeItemKeepsLiveInterests(t *testing.T) {
	t.Parallel()
	st := newServerStream(nil, nil, func() {})
	past := time.Now().Add(-time.Second)
	for range 6 {
		st.serveItem(&ndnx.Incoming{Deadline: past}, 0)
	}
	live := &ndnx.Incoming{Deadline: time.Now().Add(time.Minute)}
	st.serveItem(live, 0)
	if got := st.pending[0]; len(got) != 1 || got[0] != live {
		t.Fatalf("pending = %v, want only the live Interest", got)
	}
	for range 6 {
		st.serveItem(&ndnx.Incoming{Deadline: time.Now().Add(time.Minute)}, 0)
	}
	if got := len(st.pending[0]); got != 4 {
		t.Fatalf("%d live Interests kept, want the cap (4)", got)
	}
}
