package pyrepo

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	"github.com/named-data/ndnd/std/types/optional"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
)

// ClientConfig configures a Client. A zero field means the default.
type ClientConfig struct {
	// Repo is the repo name (required).
	Repo enc.Name
	// PublisherPrefix is where the client serves its command messages
	// (<PublisherPrefix>/msg/...); the repo must be able to reach it.
	// Default <identity>/pyrepo/<random>, served by the node.
	PublisherPrefix enc.Name
	// PublisherFwdHint is sent in notifications when PublisherPrefix is not
	// routable by itself.
	PublisherFwdHint enc.Name
	// CheckInterval is the pause between check Interests while waiting for
	// a command. Default 500ms.
	CheckInterval time.Duration
	// NotifyAttempts is how many notify Interests Publish sends before
	// giving up (ErrNoAck). Default 3.
	NotifyAttempts int
	// UnsignedChecks sends check Interests unsigned. Default false: they
	// are signed by the node's key, as this repo requires unless its
	// Config.PublicStatus is set.
	UnsignedChecks bool
	// InsecureSkipVerify accepts check replies without verifying their
	// signature (an ndn-python-repo that signs with DigestSha256, or with a
	// key outside the node's trust anchors). Default false.
	InsecureSkipVerify bool
	// OnProgress, if set, is called with every check answer while Submit
	// waits, on Submit's goroutine. It must not block.
	OnProgress func(*CommandRes)
	// Logger receives the client's log. Default slog.Default().
	Logger *slog.Logger
}

// Validate reports a configuration that cannot work.
func (c ClientConfig) Validate() error {
	switch {
	case len(c.Repo) == 0:
		return errors.New("pyrepo: ClientConfig.Repo is required")
	case !nameUsable(c.Repo, false), !nameUsable(c.PublisherPrefix, true), !nameUsable(c.PublisherFwdHint, true):
		return errors.New("pyrepo: ClientConfig names must not have components longer than 252 bytes")
	case c.CheckInterval < 0, c.NotifyAttempts < 0:
		return errors.New("pyrepo: ClientConfig values must not be negative")
	}
	return nil
}

// Client speaks the client side of the ndn-python-repo protocol, to this
// repo or to ndn-python-repo itself: it publishes commands through the
// protocol's PubSub (notify Interest, message Data served by the client,
// signed by the node's key) and polls their status with check Interests.
// Safe for concurrent use.
type Client struct {
	node      *ndnx.Node
	cfg       ClientConfig
	log       *slog.Logger
	msgPrefix enc.Name

	serveMu sync.Mutex // serializes starting and stopping the msg handler; taken before mu
	serving bool

	mu      sync.Mutex
	closed  bool
	pending map[string]enc.Wire // message Data by name, while being published
}

// NewClient returns a Client on node, which needs an identity (to sign
// messages) and trust anchors (to verify replies): ErrNoIdentity
// otherwise. It does no I/O; the message prefix is registered on first
// Publish.
func NewClient(node *ndnx.Node, cfg ClientConfig) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if node == nil || node.Identity() == nil || node.Verifier() == nil {
		return nil, ErrNoIdentity
	}
	if cfg.CheckInterval == 0 {
		cfg.CheckInterval = 500 * time.Millisecond
	}
	if cfg.NotifyAttempts == 0 {
		cfg.NotifyAttempts = 3
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Repo = cfg.Repo.Clone()
	if cfg.PublisherPrefix == nil {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		cfg.PublisherPrefix = join(node.Identity().Name(), enc.NewGenericComponent("pyrepo"), enc.NewGenericComponent(hex.EncodeToString(b)))
	}
	cfg.PublisherPrefix = cfg.PublisherPrefix.Clone()
	return &Client{
		node:      node,
		cfg:       cfg,
		log:       cfg.Logger.With("component", "pyrepo-client", "repo", cfg.Repo.String()),
		msgPrefix: join(cfg.PublisherPrefix, enc.NewGenericComponent("msg")),
		pending:   map[string]enc.Wire{},
	}, nil
}

// PublisherPrefix is the prefix the client publishes messages under.
func (c *Client) PublisherPrefix() enc.Name { return c.cfg.PublisherPrefix.Clone() }

// Close stops serving messages and withdraws the message prefix.
// Publications in progress fail. Idempotent; it returns nil.
func (c *Client) Close() error {
	c.serveMu.Lock()
	defer c.serveMu.Unlock()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	if c.serving {
		_ = c.node.Unhandle(c.msgPrefix)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = c.node.Unregister(ctx, c.msgPrefix)
		cancel()
	}
	return nil
}

func (c *Client) ensureServing(ctx context.Context) error {
	c.serveMu.Lock()
	defer c.serveMu.Unlock()
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	switch {
	case closed:
		return ErrClosed
	case c.serving:
		return nil
	}
	if err := c.node.Handle(c.msgPrefix, c.serveMsg); err != nil {
		return err
	}
	if err := c.node.Register(ctx, c.msgPrefix, nil); err != nil {
		_ = c.node.Unhandle(c.msgPrefix)
		return err
	}
	c.serving = true
	return nil
}

// serveMsg answers a repo's message Interest from the pending publications.
func (c *Client) serveMsg(_ context.Context, in *ndnx.Incoming) {
	c.mu.Lock()
	w, ok := c.pending[in.Interest.Name().TlvStr()]
	c.mu.Unlock()
	if ok {
		_ = in.Reply(w)
	}
}

// Publish sends one command: it serves the message Data (content p,
// signed by the node's key) and sends notify Interests until the repo
// acknowledges one, which it does once it has fetched the message. It
// returns the command's request number (SHA-256 of the content) for Check.
// Errors: ErrNoAck (wrapping the last network error), ErrClosed, ctx's
// error, the node's errors.
func (c *Client) Publish(ctx context.Context, v Verb, p *CommandParam) ([]byte, error) {
	if !v.valid() {
		return nil, fmt.Errorf("pyrepo: unknown verb %q", v)
	}
	if err := c.ensureServing(ctx); err != nil {
		return nil, err
	}
	content := p.Encode()
	sum := sha256.Sum256(content)
	nonce := make([]byte, 8)
	_, _ = rand.Read(nonce)
	msgName := MsgName(c.cfg.PublisherPrefix, v.Topic(c.cfg.Repo), nonce)
	wire, err := c.node.SignData(msgName, nil, enc.Wire{content})
	if err != nil {
		return nil, err
	}
	key := msgName.TlvStr()
	c.mu.Lock()
	c.pending[key] = wire
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, key)
		c.mu.Unlock()
	}()

	np := &NotifyAppParam{Publisher: c.cfg.PublisherPrefix, Nonce: nonce, PublisherFwdHint: c.cfg.PublisherFwdHint}
	app := enc.Wire{np.Encode()}
	err = ndnx.ErrTimeout
	for left := c.cfg.NotifyAttempts; left > 0; left-- {
		lifetime := ndnx.DefaultLifetime
		if dl, ok := ctx.Deadline(); ok {
			lifetime = min(lifetime, time.Until(dl)/time.Duration(left))
		}
		if lifetime <= 0 {
			break
		}
		actx, cancel := context.WithTimeout(ctx, lifetime)
		var i *ndn.EncodedInterest
		i, err = c.node.MakeInterest(actx, v.NotifyPrefix(c.cfg.Repo), &ndn.InterestConfig{Lifetime: optional.Some(lifetime)}, app, true)
		if err == nil {
			_, err = c.node.Express(actx, i)
		}
		cancel()
		if err == nil {
			return sum[:], nil
		}
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		if !errors.Is(err, ndnx.ErrTimeout) && !errors.Is(err, ndnx.ErrNack) && !errors.Is(err, context.DeadlineExceeded) {
			return nil, err
		}
		c.log.Debug("notification not acknowledged; retrying", "verb", string(v), "err", err)
	}
	return nil, fmt.Errorf("%w (%s): %w", ErrNoAck, v.Topic(c.cfg.Repo), err)
}

// Check asks the repo for the status of the command with this request
// number. The reply's signature is verified unless InsecureSkipVerify.
// Errors: ndn.ErrTimeout and the node's other errors, ndn.ErrBadReply
// (bad signature), ErrMalformed.
func (c *Client) Check(ctx context.Context, v Verb, requestNo []byte) (*CommandRes, error) {
	if !v.valid() {
		return nil, fmt.Errorf("pyrepo: unknown verb %q", v)
	}
	q := &StatQuery{RequestNo: requestNo}
	i, err := c.node.MakeInterest(ctx, v.CheckPrefix(c.cfg.Repo), &ndn.InterestConfig{MustBeFresh: true}, enc.Wire{q.Encode()}, !c.cfg.UnsignedChecks)
	if err != nil {
		return nil, err
	}
	d, err := c.node.Express(ctx, i)
	if err != nil {
		return nil, err
	}
	if !c.cfg.InsecureSkipVerify {
		if _, err := c.node.VerifyData(ctx, d); err != nil {
			return nil, fmt.Errorf("%w: check reply: %w", ndnx.ErrBadReply, err)
		}
	}
	return DecodeCommandRes(d.Data.Content().Join())
}

// Submit publishes a command and checks its status every CheckInterval
// until it is COMPLETED (returned with a nil error) or ends with a code of
// 400 or above (returned with a *StatusError). When ctx ends first it
// returns the last answer, if any, and ctx's error. Check Interests that
// get no answer are retried.
func (c *Client) Submit(ctx context.Context, v Verb, p *CommandParam) (*CommandRes, error) {
	no, err := c.Publish(ctx, v, p)
	if err != nil {
		return nil, err
	}
	t := time.NewTimer(c.cfg.CheckInterval)
	defer t.Stop()
	var last *CommandRes
	for {
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-t.C:
		}
		cctx, cancel := context.WithTimeout(ctx, max(c.cfg.CheckInterval, time.Second))
		res, err := c.Check(cctx, v, no)
		cancel()
		switch {
		case err == nil:
			last = res
			if c.cfg.OnProgress != nil {
				c.cfg.OnProgress(res)
			}
			if res.Status == StatusCompleted {
				return res, nil
			}
			if res.Status >= 400 {
				return res, &StatusError{Result: res}
			}
		case ctx.Err() != nil:
			return last, ctx.Err()
		case errors.Is(err, ErrMalformed), errors.Is(err, ndnx.ErrBadReply):
			return last, err
		default:
			c.log.Debug("check got no answer; retrying", "err", err)
		}
		t.Reset(c.cfg.CheckInterval)
	}
}

// Insert asks the repo to fetch and store objs and waits for the outcome
// (see Submit).
func (c *Client) Insert(ctx context.Context, objs ...ObjectParam) (*CommandRes, error) {
	return c.Submit(ctx, VerbInsert, &CommandParam{Objects: objs})
}

// Delete asks the repo to delete objs and waits for the outcome (see
// Submit).
func (c *Client) Delete(ctx context.Context, objs ...ObjectParam) (*CommandRes, error) {
	return c.Submit(ctx, VerbDelete, &CommandParam{Objects: objs})
}

// Join asks the repo to join sync groups and waits for the outcome (see
// Submit). ndn-python-repo does not answer checks for sync commands: with
// it, use Publish.
func (c *Client) Join(ctx context.Context, groups ...SyncParam) (*CommandRes, error) {
	return c.Submit(ctx, VerbJoin, &CommandParam{SyncGroups: groups})
}

// Leave asks the repo to leave sync groups and waits for the outcome (see
// Join).
func (c *Client) Leave(ctx context.Context, groups ...SyncParam) (*CommandRes, error) {
	return c.Submit(ctx, VerbLeave, &CommandParam{SyncGroups: groups})
}
