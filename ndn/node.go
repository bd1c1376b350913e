package ndn

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/engine/basic"
	"github.com/named-data/ndnd/std/ndn"
	mgmt "github.com/named-data/ndnd/std/ndn/mgmt_2022"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/object"
	"github.com/named-data/ndnd/std/object/storage"
	sec "github.com/named-data/ndnd/std/security"
	sig "github.com/named-data/ndnd/std/security/signer"
	"github.com/named-data/ndnd/std/types/optional"

	"github.com/ndn-invoke/ndn-invoke/security"
)

// DefaultLifetime is the Interest lifetime used when ctx has no deadline.
const DefaultLifetime = 4 * time.Second

// Node is one process's attachment to NDN: a face to the forwarder, ndnd's
// engine, the signing identity, the trust anchors with a Verifier, and ndnd's
// object client for segmented objects.
//
// A Node is safe for concurrent use. Interest handlers run on the node's
// worker goroutines, never on ndnd's engine goroutine. Close stops every
// goroutine the node started.
type Node struct {
	cfg       Config
	log       *slog.Logger
	transport string

	face     *streamFace
	engine   *basic.Engine
	client   ndn.Client
	store    ndn.Store
	identity *security.Identity
	signer   *security.InterestSigner
	verifier *security.Verifier
	trust    *sec.TrustConfig
	mgmt     *mgmt.MgmtConfig

	verified verifiedCache

	jobs    chan job
	base    context.Context // cancelled by Close; parent of handler contexts
	cancel  context.CancelFunc
	upEvent chan struct{} // face came back: re-register routes
	wg      sync.WaitGroup

	objMu     sync.Mutex // serializes ServeObjects; never held with mu
	objServed bool

	mu       sync.Mutex
	closed   bool
	routes   map[string]route // registered prefixes, by TLV string
	strategy map[string]route // strategies set (SetStrategy), by prefix TLV string
	handlers map[string]bool  // attached handler prefixes
	dropped  uint64
}

// route is a registered prefix, or a prefix's strategy choice.
type route struct {
	name     enc.Name
	opts     RouteOptions
	strategy enc.Name // SetStrategy's
}

type job struct {
	h  Handler
	in *Incoming
}

// Connect attaches to the forwarder at cfg.Transport (or the environment's),
// loads the identity and trust anchors, and starts the engine and the object
// client. If nothing answers at the transport it returns ErrNoForwarder with
// a message saying how to start one; it never exits the process (ndnd's
// engine.NewDefaultFace does, on a bad URI). ctx bounds the whole start,
// including serving the identity's certificate.
func Connect(ctx context.Context, cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	n := &Node{
		cfg:      cfg,
		log:      cfg.Logger,
		routes:   map[string]route{},
		strategy: map[string]route{},
		handlers: map[string]bool{},
		upEvent:  make(chan struct{}, 1),
	}
	n.transport = cfg.Transport
	if n.transport == "" {
		n.transport = ResolveTransport()
	}
	network, addr, err := parseTransport(n.transport)
	if err != nil {
		return nil, err
	}
	if err := n.loadSecurity(); err != nil {
		return nil, err
	}

	n.face = newStreamFace(network, addr, cfg)
	n.engine = basic.NewEngine(n.face, basic.NewTimer())
	// ndnd accepts management responses with any signature by default
	// (std/engine/basic/engine.go:90). The local forwarder signs them with
	// DigestSha256: check at least that, for ndnd's own ExecMgmtCmd too.
	n.mgmt = mgmt.NewConfig(network == "unix", sig.NewSha256Signer(), spec.Spec{})
	n.engine.SetCmdSec(sig.NewSha256Signer(), checkMgmtSignature)
	if err := n.engine.Start(); err != nil {
		return nil, fmt.Errorf("%w at %s: start one with `ndnd fw run CONFIG` (or run `ndn-repo`, "+
			"which starts its own) and point NDN_CLIENT_TRANSPORT at its socket: %w", ErrNoForwarder, n.transport, err)
	}
	n.base, n.cancel = context.WithCancel(context.Background())
	n.store = storage.NewMemoryStore()
	n.client = object.NewClient(n.engine, n.store, n.trust)
	if err := n.client.Start(); err != nil {
		n.Close()
		return nil, fmt.Errorf("ndn: start object client: %w", err)
	}
	n.face.OnUp(func() {
		select {
		case n.upEvent <- struct{}{}:
		default: // one pending re-registration is enough
		}
	})

	n.jobs = make(chan job, cfg.QueueSize)
	for range cfg.Workers {
		n.goOwned(n.worker)
	}
	n.goOwned(n.reregisterLoop)

	if n.identity != nil {
		if err := n.serveCert(ctx); err != nil {
			n.Close()
			return nil, err
		}
	}
	n.log.Debug("connected", "transport", n.transport)
	return n, nil
}

// goOwned starts f on a goroutine that Close waits for (STYLE C1).
func (n *Node) goOwned(f func()) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f()
	}()
}

func (n *Node) loadSecurity() error {
	c := n.cfg
	n.identity = c.Identity
	if n.identity == nil && c.Keychain != "" {
		var name enc.Name
		if c.IdentityName != "" {
			nm, err := enc.NameFromStr(c.IdentityName)
			if err != nil {
				return fmt.Errorf("ndn: identity name %q: %w", c.IdentityName, err)
			}
			name = nm
		}
		var err error
		if strings.Contains(c.Keychain, "://") {
			n.identity, err = security.LoadIdentity(c.Keychain, name)
		} else {
			n.identity, err = security.LoadIdentityFile(c.Keychain)
		}
		if err != nil {
			return fmt.Errorf("ndn: load identity: %w", err)
		}
	}
	if n.identity != nil {
		n.signer = security.NewInterestSigner(n.identity)
	}
	anchors := append([][]byte(nil), c.Anchors...)
	if len(c.AnchorFiles) > 0 {
		more, err := security.LoadAnchors(c.AnchorFiles...)
		if err != nil {
			return fmt.Errorf("ndn: load trust anchors: %w", err)
		}
		anchors = append(anchors, more...)
	}
	if len(anchors) == 0 {
		return nil
	}
	v, err := security.NewVerifier(security.VerifierConfig{Anchors: anchors, Fetch: n, Replay: c.Replay})
	if err != nil {
		return fmt.Errorf("ndn: trust anchors: %w", err)
	}
	n.verifier = v
	tc, _, err := security.NewTrustConfig(anchors)
	if err != nil {
		return fmt.Errorf("ndn: trust anchors: %w", err)
	}
	n.trust = tc
	return nil
}

// Close detaches from the forwarder and stops every goroutine the node
// started, waiting for running handlers to return (their ctx is cancelled).
// Idempotent and safe for concurrent use; it always returns nil.
func (n *Node) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	n.mu.Unlock()

	if n.cancel != nil {
		n.cancel()
	}
	if n.client != nil {
		_ = n.client.Stop()
	}
	// Close the face first: its reader may be blocked handing a packet to
	// the engine, which must still be running to take it.
	n.face.Close()
	if n.engine.IsRunning() {
		_ = n.engine.Stop() // returns once the engine loop has taken the stop
	}
	n.wg.Wait()
	return nil
}

func (n *Node) isClosed() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.closed
}

// Transport is the URI the node connected to.
func (n *Node) Transport() string { return n.transport }

// Engine is ndnd's engine, for ndnd APIs that take one (SvSync, ...).
// Its callbacks run on its single goroutine: never block in them.
func (n *Node) Engine() ndn.Engine { return n.engine }

// Client is ndnd's object client (segmented objects, RDR, congestion control).
func (n *Node) Client() ndn.Client { return n.client }

// Store is the object client's in-memory store of produced objects.
func (n *Node) Store() ndn.Store { return n.store }

// Identity is the node's signing identity, or nil.
func (n *Node) Identity() *security.Identity { return n.identity }

// Verifier checks signed Interests and Data against the trust anchors; nil
// when the node has no anchors.
func (n *Node) Verifier() *security.Verifier { return n.verifier }

// TrustConfig is ndnd's trust configuration built from the anchors, for ndnd
// APIs that validate (object consume, SVS); nil when there are no anchors.
func (n *Node) TrustConfig() *sec.TrustConfig { return n.trust }

// Up reports whether the connection to the forwarder is up right now.
func (n *Node) Up() bool { return n.face.IsRunning() }

// Dropped counts Interests dropped because every worker was busy and the
// queue was full.
func (n *Node) Dropped() uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.dropped
}

// Lifetime returns the Interest lifetime for ctx: the time left until its
// deadline, or DefaultLifetime without one.
func Lifetime(ctx context.Context) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		return max(time.Until(dl), time.Millisecond)
	}
	return DefaultLifetime
}

// MakeInterest encodes an Interest for name. The lifetime comes from ctx
// (see Lifetime) unless cfg sets one; a nonce is added. With sign, it is a
// signed Interest (v0.3: SignatureNonce, SignatureTime, KeyLocator = the
// node's key), which needs an identity and application parameters (an
// empty appParam is used if nil). cfg may be nil; it is not modified.
func (n *Node) MakeInterest(ctx context.Context, name enc.Name, cfg *ndn.InterestConfig, appParam enc.Wire, sign bool) (*ndn.EncodedInterest, error) {
	c := ndn.InterestConfig{}
	if cfg != nil {
		c = *cfg
	}
	if !c.Lifetime.IsSet() {
		c.Lifetime = optional.Some(Lifetime(ctx))
	}
	if !c.Nonce.IsSet() {
		c.Nonce = optional.Some(randomNonce())
	}
	if !sign {
		return spec.Spec{}.MakeInterest(name, &c, appParam, nil)
	}
	if n.signer == nil {
		return nil, errors.New("ndn: signed Interest needs an identity (Config.Identity or Keychain)")
	}
	if appParam == nil {
		appParam = enc.Wire{}
	}
	return n.signer.MakeInterest(name, &c, appParam)
}

// Data is a received Data packet with its wire form.
type Data struct {
	// Data is the decoded packet.
	Data ndn.Data
	// Raw is the packet's wire encoding.
	Raw enc.Wire
	// SigCovered is the part of Raw the signature covers.
	SigCovered enc.Wire
}

// Express sends the Interest and waits for its Data. It returns ErrTimeout
// when the lifetime passes, a *NackError (ErrNack) on a Nack, ErrFaceDown
// when the forwarder is unreachable, ErrClosed after Close, or ctx's error.
// Cancelling ctx returns at once; the Interest itself stays pending in the
// network until its lifetime ends (NDN has no cancel). The Data is not
// verified: see VerifyData.
func (n *Node) Express(ctx context.Context, interest *ndn.EncodedInterest) (*Data, error) {
	if n.isClosed() {
		return nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// 1-buffered: the engine goroutine never blocks on a caller that left.
	ch := make(chan ndn.ExpressCallbackArgs, 1)
	if err := n.engine.Express(interest, func(a ndn.ExpressCallbackArgs) { ch <- a }); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFaceDown, err)
	}
	select {
	case a := <-ch:
		switch a.Result {
		case ndn.InterestResultData:
			return &Data{Data: a.Data, Raw: a.RawData, SigCovered: a.SigCovered}, nil
		case ndn.InterestResultNack:
			return nil, &NackError{Reason: a.NackReason}
		case ndn.InterestResultTimeout:
			return nil, fmt.Errorf("%w: %s", ErrTimeout, interest.FinalName)
		default:
			return nil, fmt.Errorf("ndn: express %s: %v", interest.FinalName, a.Error)
		}
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-n.base.Done():
		return nil, ErrClosed
	}
}

// Fetch expresses an unsigned Interest for name (with CanBePrefix and
// MustBeFresh as given) and returns its Data; errors as Express.
func (n *Node) Fetch(ctx context.Context, name enc.Name, canBePrefix, mustBeFresh bool) (*Data, error) {
	i, err := n.MakeInterest(ctx, name, &ndn.InterestConfig{CanBePrefix: canBePrefix, MustBeFresh: mustBeFresh}, nil, false)
	if err != nil {
		return nil, err
	}
	return n.Express(ctx, i)
}

// CertFetchTimeout caps one certificate fetch, so a KeyLocator naming an
// unreachable issuer costs a verifier at most this long, not the whole
// Interest lifetime of the call being verified.
const CertFetchTimeout = time.Second

// FetchCert retrieves the certificate a KeyLocator names (a key or
// certificate name) from the network, waiting at most CertFetchTimeout. It
// implements security.CertFetcher.
func (n *Node) FetchCert(ctx context.Context, name enc.Name) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, CertFetchTimeout)
	defer cancel()
	d, err := n.Fetch(ctx, name, true, false)
	if err != nil {
		return nil, err
	}
	return d.Raw.Join(), nil
}

// VerifyData checks d's signature chain to the trust anchors and returns the
// signing key's name. Errors match security.ErrUnauthenticated.
//
// A Data packet that verified before is recognized by its digest and not
// verified again for verifiedTTL: a cache or a popular public reply hands
// out the same bytes over and over, and Ed25519 verification was most of the
// CPU of a cached call.
func (n *Node) VerifyData(ctx context.Context, d *Data) (enc.Name, error) {
	if n.verifier == nil {
		return nil, fmt.Errorf("%w: node has no trust anchors", security.ErrUnknownIssuer)
	}
	h := sha256.New()
	for _, b := range d.Raw {
		h.Write(b)
	}
	var digest [32]byte
	h.Sum(digest[:0])
	now := time.Now()
	if key, ok := n.verified.get(digest, now); ok {
		return key, nil
	}
	key, err := n.verifier.VerifyData(ctx, d.Data, d.SigCovered)
	if err == nil {
		n.verified.put(digest, key, now.Add(verifiedTTL))
	}
	return key, err
}

// verifiedTTL bounds how long a verified Data is trusted without checking
// again (so an expiring certificate is noticed within it).
const verifiedTTL = 30 * time.Second

// verifiedCache remembers recently verified Data by digest. Bounded: when
// full, it drops everything (cheap, and refilling costs one verification
// per packet).
type verifiedCache struct {
	mu sync.Mutex
	m  map[[32]byte]verifiedEntry
}

type verifiedEntry struct {
	key     enc.Name
	expires time.Time
}

const verifiedMax = 4096

func (c *verifiedCache) get(d [32]byte, now time.Time) (enc.Name, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[d]
	if !ok || now.After(e.expires) {
		return nil, false
	}
	return e.key.Clone(), true
}

func (c *verifiedCache) put(d [32]byte, key enc.Name, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= verifiedMax {
		c.m = make(map[[32]byte]verifiedEntry, 64)
	}
	c.m[d] = verifiedEntry{key: key.Clone(), expires: expires}
}

// SignData encodes a Data packet signed by the node's identity (DigestSha256
// when it has none).
func (n *Node) SignData(name enc.Name, cfg *ndn.DataConfig, content enc.Wire) (enc.Wire, error) {
	var s ndn.Signer = sig.NewSha256Signer()
	if n.identity != nil {
		s = n.identity.Signer()
	}
	if cfg == nil {
		cfg = &ndn.DataConfig{}
	}
	d, err := spec.Spec{}.MakeData(name, cfg, content, s)
	if err != nil {
		return nil, fmt.Errorf("ndn: encode Data %s: %w", name, err)
	}
	return d.Wire, nil
}

func checkMgmtSignature(_ enc.Name, sigCovered enc.Wire, s ndn.Signature) bool {
	return s.SigType() == ndn.SignatureDigestSha256 && sig.ValidateSha256(sigCovered, s)
}
