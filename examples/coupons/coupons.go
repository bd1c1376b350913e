package coupons

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	enc "github.com/named-data/ndnd/std/encoding"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/pubsub"
)

// Errors returned by the package. Callers test them with errors.Is.
var (
	// ErrBadConfig reports a Config or ServiceConfig that cannot be used.
	ErrBadConfig = errors.New("coupons: bad config")
	// ErrBadUser reports a user name that cannot be registered (Register)
	// or an event that is not a registration (DecodeEvent).
	ErrBadUser = errors.New("coupons: bad user")
	// ErrClosed reports a call on a closed Registration or Service.
	ErrClosed = errors.New("coupons: closed")
)

// MaxUser is the longest user name, in bytes.
const MaxUser = 64

// DefaultTopic returns the topic registrations are published on,
// /example/users/registered (a new Name each call).
func DefaultTopic() enc.Name {
	return enc.Name{enc.NewGenericComponent("example"), enc.NewGenericComponent("users"),
		enc.NewGenericComponent("registered")}
}

// DefaultGroup returns the sync group of DefaultTopic, /example/pubsub,
// as ndn-invoke pub and sub map a topic to its group (a new Name each
// call).
func DefaultGroup() enc.Name {
	return enc.Name{enc.NewGenericComponent("example"), enc.NewGenericComponent("pubsub")}
}

// Config is what both sides need. Node is required.
type Config struct {
	// Node is the node to publish or subscribe through; it needs an
	// identity and trust anchors. The caller owns it and closes it after
	// the Registration or Service. A node may hold only one of them
	// (one member per group and node).
	Node *ndnx.Node
	// Group is the sync group. Default DefaultGroup().
	Group enc.Name
	// Topic is the registrations' topic. Default DefaultTopic().
	Topic enc.Name
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
	}
	return nil
}

func (c Config) withDefaults() Config {
	if len(c.Group) == 0 {
		c.Group = DefaultGroup()
	}
	if len(c.Topic) == 0 {
		c.Topic = DefaultTopic()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c.Group, c.Topic = c.Group.Clone(), c.Topic.Clone()
	return c
}

// start joins the group as a pubsub member.
func (c Config) start(ctx context.Context) (*pubsub.PubSub, error) {
	pc := pubsub.DefaultConfig()
	pc.Group, pc.Node, pc.Logger = c.Group, c.Node, c.Logger
	ps, err := pubsub.New(pc)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	if err := ps.Start(ctx); err != nil {
		return nil, err
	}
	return ps, nil
}

// event is a registration's payload: JSON, so that `ndn-invoke sub
// --json` shows it and `ndn-invoke pub` can register a user.
type event struct {
	User string `json:"user"`
}

// EncodeEvent returns the payload announcing that user registered.
// Errors: ErrBadUser (see CheckUser).
func EncodeEvent(user string) ([]byte, error) {
	if err := CheckUser(user); err != nil {
		return nil, err
	}
	return json.Marshal(event{User: user})
}

// DecodeEvent parses a payload made by EncodeEvent and returns the user.
// Errors: ErrBadUser.
func DecodeEvent(payload []byte) (string, error) {
	if len(payload) > 8*MaxUser+32 {
		return "", fmt.Errorf("%w: %d-byte event", ErrBadUser, len(payload))
	}
	var e event
	if err := json.Unmarshal(payload, &e); err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadUser, err)
	}
	if err := CheckUser(e.User); err != nil {
		return "", err
	}
	return e.User, nil
}

// CheckUser reports whether user can be registered: 1 to MaxUser bytes
// of UTF-8 without spaces or control characters. Errors: ErrBadUser.
func CheckUser(user string) error {
	if user == "" || len(user) > MaxUser || !utf8.ValidString(user) ||
		strings.ContainsFunc(user, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) {
		return fmt.Errorf("%w: %q must be 1 to %d printable bytes of UTF-8 without spaces", ErrBadUser, user, MaxUser)
	}
	return nil
}

// CouponCode is the code of the coupon granted to user: WELCOME- and
// 8 hex digits of the name's SHA-256.
func CouponCode(user string) string {
	h := sha256.Sum256([]byte(user))
	return "WELCOME-" + strings.ToUpper(hex.EncodeToString(h[:4]))
}

// Registration publishes registrations. Its methods are safe for
// concurrent use.
type Registration struct {
	ps    *pubsub.PubSub
	topic *pubsub.Topic
	once  sync.Once
}

// NewRegistration joins the group and advertises the topic. ctx bounds
// the start only. Errors: ErrBadConfig, or the network's (ndn.ErrRegister,
// ctx's).
func NewRegistration(ctx context.Context, cfg Config) (*Registration, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	ps, err := cfg.start(ctx)
	if err != nil {
		return nil, err
	}
	t, err := ps.Advertise(cfg.Topic)
	if err != nil {
		_ = ps.Close()
		return nil, fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	return &Registration{ps: ps, topic: t}, nil
}

// Register announces that user registered and returns without waiting
// for anyone to receive it (it blocks only while 65536 registrations are
// queued unpublished). Errors: ErrBadUser, ErrClosed, or ctx's.
func (r *Registration) Register(ctx context.Context, user string) error {
	b, err := EncodeEvent(user)
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

// Flush waits until every registration made before it is published and
// was fetched by some member (a repo archiving the group, or the coupon
// service): call it before the process exits, or the registrations exist
// nowhere else. Errors: ErrClosed, or ctx's (no member fetched in time).
func (r *Registration) Flush(ctx context.Context) error {
	if err := r.topic.Flush(ctx); err != nil {
		if errors.Is(err, pubsub.ErrClosed) {
			return ErrClosed
		}
		return err
	}
	return nil
}

// Close leaves the group without waiting; Flush first. Idempotent.
func (r *Registration) Close() error {
	var err error
	r.once.Do(func() { err = r.ps.Close() })
	return err
}

// Grant is a coupon granted to a user.
type Grant struct {
	// User is who registered; Code the coupon (CouponCode(User)).
	User, Code string
	// Time is when it was granted (the Service's clock).
	Time time.Time
}

// ServiceConfig configures a Service. Node and Dir are required.
type ServiceConfig struct {
	Config
	// Dir holds the Service's state (checkpoint.db, coupons.db). A
	// restarted Service with the same Dir and Durable resumes after the
	// last registration it processed. The files are locked while open.
	Dir string
	// Durable names the subscription in the checkpoint. Default "coupons".
	Durable string
	// OnGrant, if set, is called after each grant is stored, on the
	// subscription's delivery goroutine; it may block (delivery waits).
	OnGrant func(Grant)
}

// Validate reports the first problem of c, wrapping ErrBadConfig.
func (c *ServiceConfig) Validate() error {
	if err := c.Config.Validate(); err != nil {
		return err
	}
	if c.Dir == "" {
		return fmt.Errorf("%w: Dir is required", ErrBadConfig)
	}
	return nil
}

// ServiceStats counts what a Service received.
type ServiceStats struct {
	// Granted counts coupons granted since Start; Repeats registrations
	// of users who already held a coupon (not granted again); Rejected
	// events that were not registrations.
	Granted, Repeats, Rejected uint64
}

// Service grants a coupon to each newly registered user. Its methods are
// safe for concurrent use.
type Service struct {
	cfg     ServiceConfig
	ps      *pubsub.PubSub
	cp      *pubsub.Checkpoint
	db      *bolt.DB
	sub     *pubsub.Subscription
	log     *slog.Logger
	once    sync.Once
	closeEr error

	granted, repeats, rejected atomic.Uint64
}

var (
	usersBucket  = []byte("users")  // user -> grant number
	grantsBucket = []byte("grants") // grant number (8 bytes, big-endian) -> JSON Grant
)

// StartService opens the state in cfg.Dir, joins the group and
// subscribes ExactlyOnce to the topic. ctx bounds the start only.
// Errors: ErrBadConfig, bbolt's (a Dir another Service holds open stays
// locked), or the network's (ndn.ErrRegister, ctx's).
func StartService(ctx context.Context, cfg ServiceConfig) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Config = cfg.Config.withDefaults()
	if cfg.Durable == "" {
		cfg.Durable = "coupons"
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("coupons: %w", err)
	}
	s := &Service{cfg: cfg, log: cfg.Logger.With("component", "coupons")}
	ok := false
	defer func() {
		if !ok {
			_ = s.Close()
		}
	}()
	var err error
	if s.cp, err = pubsub.OpenCheckpoint(filepath.Join(cfg.Dir, "checkpoint.db")); err != nil {
		return nil, err
	}
	if s.db, err = bolt.Open(filepath.Join(cfg.Dir, "coupons.db"), 0o600, &bolt.Options{Timeout: time.Second}); err != nil {
		return nil, fmt.Errorf("coupons: open %s: %w", cfg.Dir, err)
	}
	if err := s.db.Update(func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(usersBucket); err != nil {
			return err
		}
		_, err := tx.CreateBucketIfNotExists(grantsBucket)
		return err
	}); err != nil {
		return nil, fmt.Errorf("coupons: open %s: %w", cfg.Dir, err)
	}
	if s.ps, err = cfg.start(ctx); err != nil {
		return nil, err
	}
	if s.sub, err = s.ps.Subscribe(pubsub.SubscribeConfig{Topic: cfg.Topic, Mode: pubsub.ExactlyOnce,
		Checkpoint: s.cp, Durable: cfg.Durable, Handler: s.handle}); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	ok = true
	return s, nil
}

// handle grants a coupon for one registration.
func (s *Service) handle(_ context.Context, m *pubsub.Message) error {
	user, err := DecodeEvent(m.Payload)
	if err != nil {
		s.rejected.Add(1)
		s.log.Warn("not a registration", "publisher", m.Publisher, "seq", m.Seq, "err", err)
		return nil // skipped: retrying cannot help
	}
	g := Grant{User: user, Code: CouponCode(user), Time: time.Now()}
	fresh := false
	err = s.db.Update(func(tx *bolt.Tx) error {
		users := tx.Bucket(usersBucket)
		if users.Get([]byte(user)) != nil {
			return nil
		}
		grants := tx.Bucket(grantsBucket)
		n, err := grants.NextSequence()
		if err != nil {
			return err
		}
		b, err := json.Marshal(g)
		if err != nil {
			return err
		}
		key := binary.BigEndian.AppendUint64(nil, n)
		if err := grants.Put(key, b); err != nil {
			return err
		}
		fresh = true
		return users.Put([]byte(user), key)
	})
	switch {
	case err != nil:
		// Refused: pubsub hands the registration over again (and does not
		// move the checkpoint past it meanwhile).
		s.log.Error("store grant", "user", user, "err", err)
		return err
	case !fresh:
		s.repeats.Add(1)
	default:
		s.granted.Add(1)
		if s.cfg.OnGrant != nil {
			s.cfg.OnGrant(g)
		}
	}
	return nil
}

// Grants returns every coupon granted with this Service's Dir, in the
// order granted (also those of earlier runs). Errors: ErrClosed, bbolt's.
func (s *Service) Grants() ([]Grant, error) {
	var out []Grant
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(grantsBucket).ForEach(func(_, v []byte) error {
			var g Grant
			if err := json.Unmarshal(v, &g); err != nil {
				return err
			}
			out = append(out, g)
			return nil
		})
	})
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return nil, ErrClosed
	}
	return out, err
}

// Stats returns the counts since StartService.
func (s *Service) Stats() ServiceStats {
	return ServiceStats{Granted: s.granted.Load(), Repeats: s.repeats.Load(), Rejected: s.rejected.Load()}
}

// Close unsubscribes, leaves the group and closes the files, waiting for
// the handler to return. Idempotent.
func (s *Service) Close() error {
	s.once.Do(func() {
		var errs []error
		if s.sub != nil {
			errs = append(errs, s.sub.Close())
		}
		if s.ps != nil {
			errs = append(errs, s.ps.Close())
		}
		if s.cp != nil {
			errs = append(errs, s.cp.Close())
		}
		if s.db != nil {
			errs = append(errs, s.db.Close())
		}
		s.closeEr = errors.Join(errs...)
	})
	return s.closeEr
}
