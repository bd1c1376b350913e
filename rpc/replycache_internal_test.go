package rpc

import (
	"fmt"
	"testing"
	"time"
)

// TestReplyCacheBounded: finished replies are kept at most max at a time and
// for at most ttl; a retransmission of a finished call gets its reply; one
// of a call in progress waits for the leader.
func TestReplyCacheBounded(t *testing.T) {
	c := newReplyCache(100, time.Hour)
	for i := range 1000 {
		k := fmt.Sprint(i)
		if _, leader := c.begin(k, nil); !leader {
			t.Fatalf("%s: first call must lead", k)
		}
		c.finish(k, []byte(k))
	}
	if n := c.len(); n > 100 {
		t.Fatalf("%d entries kept, bound is 100", n)
	}
	content, leader := c.begin("999", nil)
	if leader || string(content) != "999" {
		t.Fatalf("a retransmission of a finished call gets its reply, got %q leader=%v", content, leader)
	}
	if _, leader := c.begin("x", nil); !leader {
		t.Fatal("new key leads")
	}
	if content, leader := c.begin("x", nil); leader || content != nil {
		t.Fatal("a retransmission during the call waits")
	}
	if w := c.finish("x", []byte("done")); len(w) != 1 {
		t.Fatalf("%d waiters answered, want 1", len(w))
	}

	short := newReplyCache(10, time.Millisecond)
	short.begin("a", nil)
	short.finish("a", []byte("a"))
	time.Sleep(5 * time.Millisecond)
	if _, leader := short.begin("a", nil); !leader {
		t.Fatal("an expired reply is forgotten")
	}
}
