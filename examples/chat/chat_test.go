package chat_test

import (
	"context"
	"strings"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/stretchr/testify/require"

	"github.com/ndn-invoke/ndn-invoke/examples/chat"
	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/pubsub"
)

func TestEncodeDecode(t *testing.T) {
	for _, tc := range []struct {
		name, nick, text string
		wantErr          bool
	}{
		{"plain", "alice", "hello", false},
		{"empty text", "alice", "", false},
		{"unicode", "zoë", "ça va ?", false},
		{"no nick", "", "hi", true},
		{"long nick", strings.Repeat("n", chat.MaxNick+1), "hi", true},
		{"long text", "a", strings.Repeat("t", chat.MaxText+1), true},
		{"bad utf8", "a", "\xff", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := chat.Encode(tc.nick, tc.text)
			if tc.wantErr {
				require.ErrorIs(t, err, chat.ErrBadMessage)
				return
			}
			require.NoError(t, err)
			nick, text, err := chat.Decode(b)
			require.NoError(t, err)
			require.Equal(t, tc.nick, nick)
			require.Equal(t, tc.text, text)
		})
	}
	for _, bad := range []string{"", "hello", `{"nick":""}`, `{"nick":5}`, strings.Repeat(" ", 20000)} {
		_, _, err := chat.Decode([]byte(bad))
		require.ErrorIs(t, err, chat.ErrBadMessage, bad)
	}
}

func TestConfigValidate(t *testing.T) {
	node := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "v")})
	anon := ndntest.Connect(t, ndnx.Config{})
	room := ndntest.Prefix(t)
	for _, tc := range []struct {
		name string
		cfg  chat.Config
		ok   bool
	}{
		{"ok", chat.Config{Node: node, Room: room, Nick: "a"}, true},
		{"no node", chat.Config{Room: room, Nick: "a"}, false},
		{"no identity", chat.Config{Node: anon, Room: room, Nick: "a"}, false},
		{"no room", chat.Config{Node: node, Nick: "a"}, false},
		{"no nick", chat.Config{Node: node, Room: room}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, chat.ErrBadConfig)
			}
		})
	}
	require.Equal(t, "/example/pubsub", chat.DefaultGroup(name(t, "/example/chat/lobby")).String())
}

func name(t *testing.T, s string) enc.Name {
	n, err := enc.NameFromStr(s)
	require.NoError(t, err)
	return n
}

// TestSameUserTwice: one identity in a room from two places (two
// terminals of one user) still hears itself, thanks to session
// identities; messages keep their order; Close closes Messages and later
// calls fail with ErrClosed; a foreign payload on the topic is skipped.
func TestSameUserTwice(t *testing.T) {
	id := ndntest.Identity(t, "carol")
	room := ndntest.Prefix(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var rooms []*chat.Room
	for _, nick := range []string{"carol@laptop", "carol@phone"} {
		node := ndntest.Connect(t, ndnx.Config{Identity: id})
		r, err := chat.Join(ctx, chat.Config{Node: node, Room: room, Nick: nick})
		require.NoError(t, err)
		t.Cleanup(func() { r.Close() })
		rooms = append(rooms, r)
	}
	require.False(t, rooms[0].Name().Equal(rooms[1].Name()))
	for _, text := range []string{"one", "two", "three"} {
		require.NoError(t, rooms[0].Send(ctx, text))
	}
	require.NoError(t, rooms[0].Flush(ctx))
	for _, want := range []string{"one", "two", "three"} {
		select {
		case m := <-rooms[1].Messages():
			require.Equal(t, "carol@laptop", m.Nick)
			require.Equal(t, want, m.Text)
			require.True(t, m.From.Equal(rooms[0].Name()))
		case <-ctx.Done():
			t.Fatal("message not delivered")
		}
	}
	require.ErrorIs(t, rooms[0].Send(ctx, strings.Repeat("x", chat.MaxText+1)), chat.ErrBadMessage)

	require.NoError(t, rooms[1].Close())
	require.NoError(t, rooms[1].Close())
	_, open := <-rooms[1].Messages()
	require.False(t, open)
	require.ErrorIs(t, rooms[1].Send(ctx, "late"), chat.ErrClosed)
}

// TestForeignPayload: what is not a chat message on the room's topic (say,
// `ndn-invoke pub ROOM hello`) is skipped; the sender's next chat message
// still arrives.
func TestForeignPayload(t *testing.T) {
	room := ndntest.Prefix(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	node := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "dave")})
	r, err := chat.Join(ctx, chat.Config{Node: node, Room: room, Nick: "dave"})
	require.NoError(t, err)
	defer r.Close()

	other := ndntest.Connect(t, ndnx.Config{Identity: ndntest.Identity(t, "cli")})
	cfg := pubsub.DefaultConfig()
	cfg.Group, cfg.Node = chat.DefaultGroup(room), other
	ps, err := pubsub.New(cfg)
	require.NoError(t, err)
	require.NoError(t, ps.Start(ctx))
	defer ps.Close()
	topic, err := ps.Advertise(room)
	require.NoError(t, err)
	require.NoError(t, topic.Publish(ctx, []byte("hello, not JSON")))
	require.NoError(t, topic.Flush(ctx))
	b, err := chat.Encode("cli", "after")
	require.NoError(t, err)
	require.NoError(t, topic.Publish(ctx, b))
	select {
	case m := <-r.Messages():
		require.Equal(t, "cli", m.Nick)
		require.Equal(t, "after", m.Text)
		require.True(t, m.From.Equal(other.Identity().Name()))
	case <-ctx.Done():
		t.Fatal("message not delivered")
	}
}
