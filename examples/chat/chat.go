package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"

	enc "github.com/named-data/ndnd/std/encoding"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/pubsub"
)

// Errors returned by the package. Callers test them with errors.Is.
var (
	// ErrBadConfig reports a Config that cannot be used.
	ErrBadConfig = errors.New("chat: bad config")
	// ErrBadMessage reports a message that is not a chat message (Decode),
	// or text that cannot be sent (Send: too long or not UTF-8).
	ErrBadMessage = errors.New("chat: bad message")
	// ErrClosed reports a call on a closed Room.
	ErrClosed = errors.New("chat: closed")
)

// Limits of a chat message.
const (
	// MaxNick is the longest nick, in bytes.
	MaxNick = 64
	// MaxText is the longest text of one message, in bytes.
	MaxText = 4096
)

// Config configures a participant. Node, Room and Nick are required.
type Config struct {
	// Node is the node to chat through; it needs an identity (the session
	// identity is certified by its key) and trust anchors.
	Node *ndnx.Node
	// Room is the room's topic, e.g. /example/chat/lobby.
	Room enc.Name
	// Nick is the name shown with this participant's messages (1 to
	// MaxNick bytes of UTF-8).
	Nick string
	// Group is the sync group. Default DefaultGroup(Room).
	Group enc.Name
	// Logger receives pubsub's log. Default: discarded.
	Logger *slog.Logger
}

// Validate reports the first problem of c, wrapping ErrBadConfig.
func (c *Config) Validate() error {
	switch {
	case c.Node == nil:
		return fmt.Errorf("%w: Node is required", ErrBadConfig)
	case c.Node.Identity() == nil:
		return fmt.Errorf("%w: the node has no identity", ErrBadConfig)
	case len(c.Room) == 0:
		return fmt.Errorf("%w: Room is required", ErrBadConfig)
	case c.Nick == "" || len(c.Nick) > MaxNick || !utf8.ValidString(c.Nick):
		return fmt.Errorf("%w: Nick must be 1 to %d bytes of UTF-8", ErrBadConfig, MaxNick)
	}
	return nil
}

// DefaultGroup is the sync group of a room: /<first component>/pubsub,
// as ndn-invoke pub and sub map a topic to its group.
func DefaultGroup(room enc.Name) enc.Name {
	if len(room) == 0 {
		return nil
	}
	return enc.Name{room[0], enc.NewGenericComponent("pubsub")}
}

// Message is a message of another participant.
type Message struct {
	// Nick is the sender's chosen name; From is its verified identity
	// (the session identity of a Room).
	Nick string
	From enc.Name
	// Text is the message.
	Text string
	// Time is when it was sent (the sender's clock).
	Time time.Time
}

// wireMessage is a message's payload: JSON, so that `ndn-invoke sub
// --json` shows it and `ndn-invoke pub` can speak in a room.
type wireMessage struct {
	Nick string `json:"nick"`
	Text string `json:"text"`
}

// Encode returns the payload of a message from nick. Errors: ErrBadMessage
// when nick or text is too long or not UTF-8, or nick is empty.
func Encode(nick, text string) ([]byte, error) {
	if err := check(nick, text); err != nil {
		return nil, err
	}
	return json.Marshal(wireMessage{Nick: nick, Text: text})
}

// Decode parses a payload made by Encode, returning the nick and text.
// Errors: ErrBadMessage.
func Decode(payload []byte) (nick, text string, err error) {
	if len(payload) > 2*(MaxNick+MaxText)+64 {
		return "", "", fmt.Errorf("%w: %d bytes", ErrBadMessage, len(payload))
	}
	var w wireMessage
	if err := json.Unmarshal(payload, &w); err != nil {
		return "", "", fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	if err := check(w.Nick, w.Text); err != nil {
		return "", "", err
	}
	return w.Nick, w.Text, nil
}

func check(nick, text string) error {
	switch {
	case nick == "" || len(nick) > MaxNick || !utf8.ValidString(nick):
		return fmt.Errorf("%w: nick must be 1 to %d bytes of UTF-8", ErrBadMessage, MaxNick)
	case len(text) > MaxText || !utf8.ValidString(text):
		return fmt.Errorf("%w: text must be at most %d bytes of UTF-8", ErrBadMessage, MaxText)
	}
	return nil
}

// Room is one participant in a chat room. Its methods are safe for
// concurrent use.
type Room struct {
	cfg   Config
	ps    *pubsub.PubSub
	topic *pubsub.Topic
	msgs  chan Message
	once  sync.Once
}

// Join joins the room: it issues the session identity, serves its
// certificate, joins the sync group and subscribes to the room. ctx bounds
// Join only. Errors: ErrBadConfig, or the network's (ndn.ErrRegister, ctx's).
func Join(ctx context.Context, cfg Config) (*Room, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Group == nil {
		cfg.Group = DefaultGroup(cfg.Room)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	sid, err := pubsub.SessionIdentity(cfg.Node.Identity(), "_chat")
	if err != nil {
		return nil, err
	}
	pcfg := pubsub.DefaultConfig()
	pcfg.Group, pcfg.Node, pcfg.Identity, pcfg.Logger = cfg.Group, cfg.Node, sid, cfg.Logger
	ps, err := pubsub.New(pcfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	r := &Room{cfg: cfg, ps: ps, msgs: make(chan Message, 64)}
	if err := ps.Start(ctx); err != nil {
		close(r.msgs)
		return nil, err
	}
	if r.topic, err = ps.Advertise(cfg.Room); err != nil {
		r.Close()
		return nil, fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	if _, err := ps.Subscribe(pubsub.SubscribeConfig{Topic: cfg.Room, Handler: r.deliver}); err != nil {
		r.Close()
		return nil, fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	return r, nil
}

// deliver runs on the subscription's delivery goroutine: it decodes a
// message and hands it to the reader, dropping what is not a chat message.
func (r *Room) deliver(ctx context.Context, m *pubsub.Message) error {
	nick, text, err := Decode(m.Payload)
	if err != nil {
		r.cfg.Logger.Debug("not a chat message", "from", m.Publisher.String(), "err", err)
		return nil // skipped, not retried
	}
	select {
	case r.msgs <- Message{Nick: nick, From: m.Publisher, Text: text, Time: m.Published}:
	case <-ctx.Done():
	}
	return nil
}

// Name is the participant's session identity, the From of its messages.
func (r *Room) Name() enc.Name { return r.ps.Name() }

// Messages returns the channel of the other participants' messages, in
// each sender's order. Close closes it. Read it: while it is full,
// delivery waits.
func (r *Room) Messages() <-chan Message { return r.msgs }

// Send queues text for the room (messages sent within a few milliseconds
// go out in one signed packet). It does not wait for anyone to fetch it:
// Flush does. Errors: ErrBadMessage, ErrClosed, or ctx's.
func (r *Room) Send(ctx context.Context, text string) error {
	b, err := Encode(r.cfg.Nick, text)
	if err != nil {
		return err
	}
	if err := r.topic.Publish(ctx, b); err != nil {
		if errors.Is(err, pubsub.ErrClosed) {
			return ErrClosed
		}
		return err
	}
	return nil
}

// Flush waits until another participant fetched every message sent
// before the call, or until ctx ends (with nobody else in the room it
// waits for ctx). Call it before Close to leave without losing the last
// messages. Errors: ErrClosed, or ctx's.
func (r *Room) Flush(ctx context.Context) error {
	if err := r.topic.Flush(ctx); err != nil {
		if errors.Is(err, pubsub.ErrClosed) {
			return ErrClosed
		}
		return err
	}
	return nil
}

// Close leaves the room: it stops the pubsub member, waits for its
// goroutines and closes the Messages channel. Messages not yet fetched by
// anyone are lost (see Flush). Idempotent.
func (r *Room) Close() error {
	r.once.Do(func() {
		r.ps.Close()
		close(r.msgs)
	})
	return nil
}
