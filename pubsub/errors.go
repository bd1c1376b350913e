package pubsub

import "errors"

// Errors returned by the package. Callers test them with errors.Is.
var (
	// ErrBadConfig reports a Config or SubscribeConfig that cannot be used.
	ErrBadConfig = errors.New("pubsub: bad config")
	// ErrClosed reports a call on a closed PubSub or Subscription.
	ErrClosed = errors.New("pubsub: closed")
	// ErrBadTopic reports a topic name that cannot be used (empty, or that
	// ndnd cannot encode).
	ErrBadTopic = errors.New("pubsub: bad topic")
	// ErrTooLarge reports a message over Config.MaxMessage.
	ErrTooLarge = errors.New("pubsub: message too large")
	// ErrMalformed is wrapped by every decoding error of network input.
	ErrMalformed = errors.New("pubsub: malformed")
	// ErrNotStarted reports a call that needs Start first.
	ErrNotStarted = errors.New("pubsub: not started")
)
