package ndn

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	mgmt "github.com/named-data/ndnd/std/ndn/mgmt_2022"
	"github.com/named-data/ndnd/std/types/optional"
)

// Incoming is a received Interest handed to a Handler.
type Incoming struct {
	// Interest is the decoded Interest.
	Interest ndn.Interest
	// Raw is its wire encoding; SigCovered the part a signature covers.
	Raw, SigCovered enc.Wire
	// Deadline is when the Interest expires in the forwarder's PIT; a reply
	// after it is dropped.
	Deadline time.Time

	reply ndn.WireReplyFunc
}

// Reply sends a Data packet (wire encoding) back toward the consumer. It
// may be called once; later calls are ignored by the forwarder. Returns
// ErrFaceDown when the forwarder is unreachable.
func (in *Incoming) Reply(wire enc.Wire) error {
	if err := in.reply(wire); err != nil {
		return fmt.Errorf("%w: %w", ErrFaceDown, err)
	}
	return nil
}

// Handler serves Interests under a prefix. It runs on one of the node's
// worker goroutines and may block; ctx ends at the Interest's deadline or
// when the node closes.
type Handler func(ctx context.Context, in *Incoming)

// Handle attaches h to every Interest under prefix (longest prefix wins). It
// does not tell the forwarder: call Register for that. Returns an error
// wrapping ndn.ErrMultipleHandlers if prefix already has a handler.
func (n *Node) Handle(prefix enc.Name, h Handler) error {
	if n.isClosed() {
		return ErrClosed
	}
	err := n.engine.AttachHandler(prefix, func(a ndn.InterestHandlerArgs) {
		// Runs on ndnd's engine goroutine, which also reads every packet
		// (std/engine/basic/engine.go:273-275): never block here.
		in := &Incoming{Interest: a.Interest, Raw: a.RawInterest, SigCovered: a.SigCovered, Deadline: a.Deadline, reply: a.Reply}
		select {
		case n.jobs <- job{h: h, in: in}:
		default:
			n.mu.Lock()
			n.dropped++
			n.mu.Unlock()
			n.log.Debug("handler queue full; Interest dropped", "name", a.Interest.Name())
		}
	})
	if err != nil {
		return fmt.Errorf("ndn: handle %s: %w", prefix, err)
	}
	n.mu.Lock()
	n.handlers[prefix.TlvStr()] = true
	n.mu.Unlock()
	return nil
}

// Unhandle detaches the handler of prefix. Handlers already running finish.
func (n *Node) Unhandle(prefix enc.Name) error {
	n.mu.Lock()
	delete(n.handlers, prefix.TlvStr())
	n.mu.Unlock()
	return n.engine.DetachHandler(prefix)
}

func (n *Node) worker() {
	for {
		select {
		case <-n.base.Done():
			return
		case j := <-n.jobs:
			ctx, cancel := context.WithDeadline(n.base, j.in.Deadline)
			j.h(ctx, j.in)
			cancel()
		}
	}
}

// RouteOptions tune a registration. The zero value is a route of cost 0
// that the forwarder may readvertise (origin "client"), so NDN-DV
// propagates it to other hosts.
type RouteOptions struct {
	// Cost is the route cost; lower is preferred.
	Cost uint64
	// LocalOnly keeps the route on this forwarder (origin "app"), so routing
	// does not readvertise it.
	LocalOnly bool
	// NoInherit registers without the child-inherit flag. By default (as
	// NFD) a route is inherited by longer prefixes: a service registered at
	// /svc also becomes a nexthop of another producer's /svc/sub, and the
	// forwarder may send /svc/sub Interests to the service. Set it when
	// sub-prefixes belong to others (a repo keeping /svc/_ops).
	NoInherit bool
}

// Register asks the forwarder to send Interests under prefix to this node,
// and returns once the forwarder confirmed the route (unlike ndnd's
// AnnouncePrefix, which gives no completion signal). The route is
// re-registered automatically after a reconnect. opts may be nil. Errors:
// ErrRegister (wrapping the forwarder's answer), ErrTimeout, ErrClosed,
// ctx's error.
func (n *Node) Register(ctx context.Context, prefix enc.Name, opts *RouteOptions) error {
	var o RouteOptions
	if opts != nil {
		o = *opts
	}
	if err := n.ribCommand(ctx, "register", prefix, o); err != nil {
		return err
	}
	n.mu.Lock()
	n.routes[prefix.TlvStr()] = route{name: prefix.Clone(), opts: o}
	n.mu.Unlock()
	return nil
}

// Unregister removes a route added by Register.
func (n *Node) Unregister(ctx context.Context, prefix enc.Name) error {
	n.mu.Lock()
	r, ok := n.routes[prefix.TlvStr()]
	delete(n.routes, prefix.TlvStr())
	n.mu.Unlock()
	if !ok {
		return nil
	}
	return n.ribCommand(ctx, "unregister", prefix, r.opts)
}

// MulticastStrategy is the forwarder's multicast strategy. Sync protocols
// (SVS) set it on their sync prefix: with the default best-route strategy
// an Interest reaches only one of the prefix's nexthops. ndnd's NDN-DV does
// the same on its own sync prefixes (dv/dv/router.go:263-279).
var MulticastStrategy = enc.Name{
	enc.LOCALHOST, enc.NewGenericComponent("nfd"), enc.NewGenericComponent("strategy"), enc.NewGenericComponent("multicast"),
}

// SetStrategy sets the forwarding strategy (such as MulticastStrategy) for
// Interests under prefix at the node's forwarder, and returns once the
// forwarder confirmed it. It is set again after a reconnect, as routes
// are. Errors: ErrRegister (wrapping the forwarder's answer), ErrTimeout,
// ErrClosed, ctx's error.
func (n *Node) SetStrategy(ctx context.Context, prefix, strategy enc.Name) error {
	if err := n.strategyCommand(ctx, prefix, strategy); err != nil {
		return err
	}
	n.mu.Lock()
	n.strategy[prefix.TlvStr()] = route{name: prefix.Clone(), strategy: strategy.Clone()}
	n.mu.Unlock()
	return nil
}

func (n *Node) strategyCommand(ctx context.Context, prefix, strategy enc.Name) error {
	args := &mgmt.ControlArgs{Name: prefix, Strategy: &mgmt.Strategy{Name: strategy}}
	return n.command(ctx, "strategy-choice", "set", args)
}

func (n *Node) ribCommand(ctx context.Context, verb string, prefix enc.Name, o RouteOptions) error {
	args := &mgmt.ControlArgs{Name: prefix}
	if verb == "register" {
		args.Cost = optional.Some(o.Cost)
		if o.NoInherit {
			args.Flags = optional.Some(uint64(0))
		}
	}
	if o.LocalOnly {
		args.Origin = optional.Some(uint64(mgmt.RouteOriginApp))
	} else {
		args.Origin = optional.Some(uint64(mgmt.RouteOriginClient))
	}
	return n.command(ctx, "rib", verb, args)
}

// command sends a management command to the node's forwarder and checks
// its answer.
func (n *Node) command(ctx context.Context, module, verb string, args *mgmt.ControlArgs) error {
	prefix := args.Name
	lifetime := min(Lifetime(ctx), 4*time.Second)
	cfg := &ndn.InterestConfig{
		Lifetime:    optional.Some(lifetime),
		Nonce:       optional.Some(randomNonce()),
		MustBeFresh: true,
		SigNonce:    randomBytes(8),
		SigTime:     optional.Some(time.Duration(time.Now().UnixMilli()) * time.Millisecond),
	}
	interest, err := n.mgmt.MakeCmd(module, verb, args, cfg)
	if err != nil {
		return fmt.Errorf("%w: %s %s: %w", ErrRegister, verb, prefix, err)
	}
	d, err := n.Express(ctx, interest)
	if err != nil {
		return fmt.Errorf("%w: %s %s: %w", ErrRegister, verb, prefix, err)
	}
	if !checkMgmtSignature(nil, d.SigCovered, d.Data.Signature()) {
		return fmt.Errorf("%w: %s %s: response has a bad signature", ErrRegister, verb, prefix)
	}
	resp, err := mgmt.ParseControlResponse(enc.NewWireView(d.Data.Content()), true)
	if err != nil || resp.Val == nil {
		return fmt.Errorf("%w: %s %s: malformed response: %v", ErrRegister, verb, prefix, err)
	}
	if resp.Val.StatusCode != 200 {
		return fmt.Errorf("%w: %s %s: forwarder said %d %s", ErrRegister, verb, prefix, resp.Val.StatusCode, resp.Val.StatusText)
	}
	return nil
}

// reregisterLoop puts routes back after the face reconnects: a restarted
// forwarder has forgotten them.
func (n *Node) reregisterLoop() {
	for {
		select {
		case <-n.base.Done():
			return
		case <-n.upEvent:
		}
		n.mu.Lock()
		rs := make([]route, 0, len(n.routes))
		for _, r := range n.routes {
			rs = append(rs, r)
		}
		for _, r := range n.strategy {
			rs = append(rs, r)
		}
		n.mu.Unlock()
		for _, r := range rs {
			n.reregister(r)
		}
	}
}

func (n *Node) reregister(r route) {
	backoff := n.cfg.ReconnectMin
	t := time.NewTimer(0)
	defer t.Stop()
	for attempt := 0; attempt < 10; attempt++ {
		select {
		case <-n.base.Done():
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(n.base, 4*time.Second)
		var err error
		if r.strategy != nil {
			err = n.strategyCommand(ctx, r.name, r.strategy)
		} else {
			err = n.ribCommand(ctx, "register", r.name, r.opts)
		}
		cancel()
		if err == nil && r.strategy != nil {
			n.log.Info("strategy set again after reconnect", "prefix", r.name.String(), "strategy", r.strategy.String())
			return
		}
		if err == nil {
			n.log.Info("route re-registered after reconnect", "prefix", r.name.String())
			return
		}
		n.log.Warn("re-register failed", "prefix", r.name.String(), "err", err)
		backoff = min(backoff*2, n.cfg.ReconnectMax)
		t.Reset(backoff)
	}
}

// serveCert answers Interests for the identity's key name with its
// certificate, so verifiers elsewhere can fetch it.
func (n *Node) serveCert(ctx context.Context) error {
	keyName := n.identity.KeyName()
	wire := n.identity.CertWire()
	err := n.Handle(keyName, func(_ context.Context, in *Incoming) {
		_ = in.Reply(enc.Wire{wire})
	})
	if err != nil {
		return err
	}
	if err := n.Register(ctx, keyName, nil); err != nil {
		return fmt.Errorf("ndn: serve certificate %s: %w", keyName, err)
	}
	return nil
}

// ObjectPrefix is where the node serves objects it produced into Store
// (large rpc requests, for example): <identity>/_obj. Nil without an
// identity. Not under the key name: ndnd's TrustConfig rejects any Data
// named under its own KeyLocator as "self-signed"
// (std/security/trust_config.go:181).
func (n *Node) ObjectPrefix() enc.Name {
	if n.identity == nil {
		return nil
	}
	return n.identity.Name().Append(enc.NewGenericComponent("_obj"))
}

// ServeObjects starts answering Interests under ObjectPrefix from Store and
// registers the prefix; later calls return at once. Needs an identity.
func (n *Node) ServeObjects(ctx context.Context) error {
	prefix := n.ObjectPrefix()
	if prefix == nil {
		return errors.New("ndn: ServeObjects needs an identity")
	}
	n.objMu.Lock()
	defer n.objMu.Unlock()
	if n.objServed {
		return nil
	}
	err := n.Handle(prefix, func(_ context.Context, in *Incoming) {
		if b, err := n.store.Get(in.Interest.Name(), in.Interest.CanBePrefix()); err == nil && b != nil {
			_ = in.Reply(enc.Wire{b})
		}
	})
	if err != nil {
		return err
	}
	if err := n.Register(ctx, prefix, nil); err != nil {
		_ = n.Unhandle(prefix)
		return err
	}
	n.objServed = true
	return nil
}

func randomBytes(k int) []byte {
	b := make([]byte, k)
	_, _ = rand.Read(b) // crypto/rand never fails on Linux
	return b
}

func randomNonce() uint32 { return binary.BigEndian.Uint32(randomBytes(4)) }
