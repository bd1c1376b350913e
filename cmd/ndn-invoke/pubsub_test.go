package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/stretchr/testify/require"

	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/security"
)

// syncBuffer is a bytes.Buffer safe for a writer and a poller.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// subResult is the outcome of a sub command run in the background.
type subResult struct {
	code        int
	out, errOut *syncBuffer
	done        chan struct{}
}

// startSub runs `ndn-invoke sub args...` on a goroutine and returns once
// it has subscribed. The test waits for it to end (bound it with --count
// and --timeout).
func startSub(t *testing.T, args ...string) *subResult {
	t.Helper()
	r := &subResult{out: &syncBuffer{}, errOut: &syncBuffer{}, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.code = cli(append([]string{"sub"}, args...), strings.NewReader(""), r.out, r.errOut)
	}()
	t.Cleanup(func() { <-r.done })
	waitUntil(t, 15*time.Second, "sub subscribed", func() bool {
		select {
		case <-r.done:
			t.Fatalf("sub ended early (%d): %s", r.code, r.errOut)
		default:
		}
		return strings.Contains(r.errOut.String(), "subscribed to ")
	})
	return r
}

func (r *subResult) wait(t *testing.T) {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("sub did not end; output so far: %q, %q", r.out, r.errOut)
	}
}

// waitUntil polls cond until it holds or d passes.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPubSub is the scenario: sub on one "terminal" prints, in
// order, what successive pub commands publish, with the usual keys only
// (here the test's keychain in NDN_INVOKE_KEYCHAIN). pub and sub run as the
// same identity, and the group comes from the topic.
func TestPubSub(t *testing.T) {
	callerEnv(t)
	topic := ndntest.Prefix(t).String() + "/chat"
	sub := startSub(t, topic, "--count", "3", "--timeout", "60s")
	require.Contains(t, sub.errOut.String(), "in group /ndntest/pubsub")
	for _, m := range []string{"hello 1", "hello 2", "hello 3"} {
		code, out, errOut := invoke(t, "", "pub", topic, m)
		require.Equal(t, 0, code, errOut)
		require.Empty(t, out)
		require.Contains(t, errOut, "fetched by a subscriber")
	}
	sub.wait(t)
	require.Equal(t, 0, sub.code, sub.errOut.String())
	require.Equal(t, "hello 1\nhello 2\nhello 3\n", sub.out.String())
}

// TestPubStdinJSON: pub - publishes each line of stdin; sub --json prints
// one object per message, here subscribed to a prefix of the topic.
func TestPubStdinJSON(t *testing.T) {
	dir := callerEnv(t)
	alice, err := security.LoadIdentity("dir://"+dir, nil)
	require.NoError(t, err)
	prefix := ndntest.Prefix(t)
	group := prefix.String() + "/ps"
	topic := prefix.String() + "/logs/app"
	sub := startSub(t, prefix.String(), "--group", group, "--json", "--count", "4", "--timeout", "60s")
	code, out, errOut := invoke(t, "one\ntwo\n\nfour é\n", "pub", topic, "-", "--group", group, "--json")
	require.Equal(t, 0, code, errOut)
	var summary map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &summary), out)
	require.Equal(t, map[string]any{"topic": topic, "group": group, "publisher": alice.Name().String(),
		"messages": float64(4), "fetched": true}, summary)
	sub.wait(t)
	require.Equal(t, 0, sub.code, sub.errOut.String())
	lines := strings.Split(strings.TrimSpace(sub.out.String()), "\n")
	require.Len(t, lines, 4)
	for i, want := range []string{"one", "two", "", "four é"} {
		var m subMessage
		require.NoError(t, json.Unmarshal([]byte(lines[i]), &m), lines[i])
		require.NotNil(t, m.Payload, lines[i])
		require.Equal(t, want, *m.Payload)
		require.Equal(t, topic, m.Topic)
		require.Equal(t, alice.Name().String(), m.Publisher)
		require.Equal(t, uint64(1), m.Seq, "one batch") // published within the batch window
		require.Equal(t, i, m.Index)
		require.WithinDuration(t, time.Now(), m.Published, time.Minute)
	}
}

// TestPubNobodyListening: pub with no subscriber says so after --linger
// (exit 0); sub --count that times out first is an error.
func TestPubNobodyListening(t *testing.T) {
	callerEnv(t)
	topic := ndntest.Prefix(t).String() + "/empty"
	start := time.Now()
	code, _, errOut := invoke(t, "", "pub", topic, "anyone?", "--linger", "1s")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, errOut, "nobody fetched them within 1s")
	require.Less(t, time.Since(start), 15*time.Second)

	code, _, errOut = invoke(t, "", "pub", topic, "-")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, errOut, "nothing to publish")

	code, out, errOut := invoke(t, "", "sub", topic, "--count", "1", "--timeout", "1s")
	require.Equal(t, 1, code, errOut)
	require.Empty(t, out)
	require.Contains(t, errOut, "0 of 1 messages within --timeout 1s")

	code, _, errOut = invoke(t, "", "sub", topic, "--timeout", "500ms")
	require.Equal(t, 0, code, errOut)
}

// TestPubSubNoKeychain: without a keychain the commands say how to make
// the demo trust domain.
func TestPubSubNoKeychain(t *testing.T) {
	callerEnv(t)
	t.Setenv("NDN_INVOKE_KEYCHAIN", "dir://"+t.TempDir()+"/none")
	for _, cmd := range [][]string{{"pub", "/example/chat", "hi"}, {"sub", "/example/chat"}} {
		code, _, errOut := invoke(t, "", cmd...)
		require.Equal(t, 1, code, errOut)
		require.Contains(t, errOut, "examples/chat/cmd/chat --init")
	}
}

func TestPubSubUsage(t *testing.T) {
	callerEnv(t)
	for _, args := range [][]string{
		{"pub"},
		{"pub", "/a"},
		{"pub", "/a", "m", "extra"},
		{"pub", "a", "m"},
		{"pub", "/a", "m", "--linger", "-1s"},
		{"pub", "/a", "m", "--no-such-flag"},
		{"sub"},
		{"sub", "/a", "/b"},
		{"sub", "/a", "--count", "-1"},
		{"sub", "/a", "--timeout", "-1s"},
		{"sub", "/a", "--group", "nope"},
		{"sub", "/=x"},
		{"pub", "/a", "m", "--group", "/=b"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, out, errOut := invoke(t, "", args...)
			require.Equal(t, 2, code, errOut)
			require.Empty(t, out)
			require.Contains(t, errOut, "Run `ndn-invoke help "+args[0]+"`")
		})
	}
	for _, args := range [][]string{{"help", "pub"}, {"help", "sub"}, {"sub", "--help"}, {"pub", "-h"}} {
		code, out, errOut := invoke(t, "", args...)
		require.Equal(t, 0, code, errOut)
		require.Contains(t, out, "Usage: ndn-invoke pub TOPIC MSG|-")
		require.Contains(t, out, "-linger")
	}
	code, out, _ := invoke(t, "", "help")
	require.Equal(t, 0, code)
	require.Contains(t, out, "ndn-invoke sub TOPIC")
}

func TestDefaultGroup(t *testing.T) {
	for _, tc := range []struct{ topic, want string }{
		{"/example/chat", "/example/pubsub"},
		{"/example", "/example/pubsub"},
		{"/example/news/today", "/example/pubsub"},
		{"/a/b", "/a/pubsub"},
	} {
		n, err := enc.NameFromStr(tc.topic)
		require.NoError(t, err)
		require.Equal(t, tc.want, defaultGroup(n).String(), tc.topic)
	}
}
