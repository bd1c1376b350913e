package svs

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	mgmt "github.com/named-data/ndnd/std/ndn/mgmt_2022"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	sig "github.com/named-data/ndnd/std/security/signer"
	ndnsync "github.com/named-data/ndnd/std/sync"
	"github.com/named-data/ndnd/std/types/optional"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/security"
)

// This file wraps ndnd's SvSync (std/sync/svs.go), which runs the SVS v3
// protocol for us, so that the group owns what SvSync leaves loose. SvSync
// talks to the world only through the ndn.Client and ndn.Engine it is
// given; we give it ours (syncClient, guardEngine), which:
//
//   - check every Sync Interest's Sync Data (size, TLV structure) before
//     SvSync hands it to ndnd's parser, and recover a panic there: the
//     handler runs on ndnd's engine goroutine, where a panic kills the
//     process and ndnd's parser can allocate gigabytes on 9 bytes;
//   - validate Sync Data on our own goroutines (signature chain, group
//     policy, name bound to the signer, state vector structure) instead of
//     ndnd's trust config, and call SvSync back only while it runs: its
//     callback blocks on a channel nobody reads once it stopped;
//   - sign Sync Data with the member's identity;
//   - tell us when SvSync's loop has exited (it detaches its handler as its
//     last act), because SvSync.Stop does not wait for it and must not be
//     called twice (svs.go:207-212);
//   - count the Sync Interests its untracked goroutines are sending
//     (svs.go:243, 265, 421), so Close waits for them too;
//   - drop SvSync's face-up hook, a time.AfterFunc nobody can cancel
//     (svs.go:180-182): the group publishes a heartbeat on face up itself,
//     which sends a Sync Interest just the same;
//   - give ndnd's encoder a copy of the sync prefix: SvSync's goroutines
//     encode concurrently into its spare capacity (a data race, svs.go:136
//     and spec_2022/zz_generated.go:1716).

// syncClient is the ndn.Client SvSync sees.
type syncClient struct {
	ndn.Client
	g      *Group
	engine *guardEngine
}

func (c *syncClient) Engine() ndn.Engine { return c.engine }

// SuggestSigner is called once per Sync Data SvSync encodes, just before
// it expresses the Sync Interest: counted in g.sending until Express.
func (c *syncClient) SuggestSigner(enc.Name) ndn.Signer {
	c.g.sending.Add(1)
	return c.g.id.Signer()
}

func (c *syncClient) Validate(d ndn.Data, sigCov enc.Wire, cb func(bool, error)) {
	c.ValidateExt(ndn.ValidateExtArgs{Data: d, SigCovered: sigCov, Callback: cb})
}

// ValidateExt queues the Sync Data for a validation worker. It runs on
// ndnd's engine goroutine (inside SvSync's Interest handler): it never
// blocks, and drops the packet when the queue is full (SVS repeats its
// state; Sync Interests are loss tolerant).
func (c *syncClient) ValidateExt(a ndn.ValidateExtArgs) {
	select {
	case c.g.validateQ <- validateJob{data: a.Data, sigCov: a.SigCovered, callback: a.Callback}:
	default:
		c.g.count(func(s *Stats) { s.SyncDropped++ })
	}
}

// guardEngine is the ndn.Engine SvSync sees.
type guardEngine struct {
	ndn.Engine
	g *Group
}

// Spec hands ndnd's encoder a copy of the name (see the file comment).
func (e *guardEngine) Spec() ndn.Spec { return cloningSpec{} }

type cloningSpec struct{ spec.Spec }

func (s cloningSpec) MakeInterest(name enc.Name, cfg *ndn.InterestConfig, ap enc.Wire, sg ndn.Signer) (*ndn.EncodedInterest, error) {
	return s.Spec.MakeInterest(name.Clone(), cfg, ap, sg)
}

func (e *guardEngine) Face() ndn.Face { return guardFace{e.Engine.Face()} }

// AttachHandler wraps SvSync's Sync Interest handler with the checks ndnd's
// parser needs.
func (e *guardEngine) AttachHandler(prefix enc.Name, h ndn.InterestHandler) error {
	return e.Engine.AttachHandler(prefix, func(a ndn.InterestHandlerArgs) {
		if !e.g.acceptSyncInterest(a.Interest) {
			return
		}
		defer func() {
			if r := recover(); r != nil {
				e.g.count(func(s *Stats) { s.SyncRejected++ })
				e.g.log.Warn("SvSync panicked on a Sync Interest", "panic", fmt.Sprint(r))
			}
		}()
		h(a)
	})
}

// DetachHandler is SvSync's last act when its loop exits.
func (e *guardEngine) DetachHandler(prefix enc.Name) error {
	err := e.Engine.DetachHandler(prefix)
	e.g.mainDoneOnce.Do(func() { close(e.g.mainDone) })
	return err
}

// Express ends the count SuggestSigner started.
func (e *guardEngine) Express(i *ndn.EncodedInterest, cb ndn.ExpressCallbackFunc) error {
	defer e.g.sending.Add(-1)
	return e.Engine.Express(i, cb)
}

// guardFace drops SvSync's face-up hook (see the file comment).
type guardFace struct{ ndn.Face }

func (guardFace) OnUp(func()) (cancel func()) { return func() {} }

// acceptSyncInterest checks what SvSync is about to parse: a Sync Data of
// at most one packet whose TLV structure is whole.
func (g *Group) acceptSyncInterest(i ndn.Interest) bool {
	ap := i.AppParam()
	if ap == nil {
		return false
	}
	n := 0
	for _, b := range ap {
		n += len(b)
	}
	if n > maxPacket || !security.WellFormed(ap.Join()) {
		g.count(func(s *Stats) { s.SyncRejected++ })
		return false
	}
	return true
}

// validateJob is a Sync Data waiting for a validation worker.
type validateJob struct {
	data     ndn.Data
	sigCov   enc.Wire
	callback func(bool, error)
}

// validateLoop runs a validation worker.
func (g *Group) validateLoop() {
	for {
		select {
		case <-g.base.Done():
			return
		case j := <-g.validateQ:
			g.validate(j)
		}
	}
}

// validate checks one Sync Data and hands it back to SvSync if it passes.
// Failures are counted and logged, not reported to SvSync (which would
// only log them through ndnd's global logger).
func (g *Group) validate(j validateJob) {
	member, err := g.checkSyncData(j.data, j.sigCov)
	if err != nil {
		g.count(func(s *Stats) { s.SyncRejected++ })
		g.log.Debug("rejected Sync Data", "err", err)
		return
	}
	g.count(func(s *Stats) { s.SyncAccepted++ })
	if member != nil {
		g.mu.Lock()
		g.core.heard(member, time.Now())
		g.mu.Unlock()
		g.signal(g.kick)
	}
	// SvSync's callback sends on a channel its loop reads (svs.go:544):
	// call it only while the loop runs. Close takes the write lock before
	// it stops SvSync, so no callback is in flight then.
	g.gate.RLock()
	defer g.gate.RUnlock()
	if g.syncStopped {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			g.log.Warn("SvSync panicked on a validated Sync Data", "panic", fmt.Sprint(r))
		}
	}()
	j.callback(true, nil)
}

// checkSyncData validates a Sync Data: named <member>/<group>/32=svs/v=<µs>,
// signed by <member>'s key with a chain to the trust anchors, allowed by the
// policy, carrying a well-formed state vector. It returns the member if the
// packet is recent enough to prove the member alive now (a replayed old
// Sync Data proves nothing), else nil.
func (g *Group) checkSyncData(d ndn.Data, sigCov enc.Wire) (enc.Name, error) {
	member, micros, ok := parseSyncDataName(d.Name(), g.cfg.Group)
	if !ok || !usableName(member) {
		return nil, fmt.Errorf("svs: Sync Data %s is not named <member>%s/32=svs/<version>", d.Name(), g.cfg.Group)
	}
	// Cheap checks first, on the claimed key: a packet that could not pass
	// even if its signature is good costs no verification and no
	// certificate fetch. A key that failed recently is refused for
	// rejectHold: an outsider's certificate chain may need fetches that
	// time out, and it announces itself every HeartbeatPeriod.
	var claimed enc.Name
	if s := d.Signature(); s != nil {
		claimed = s.KeyName()
	}
	if err := g.allowed(claimed, member); err != nil {
		return nil, err
	}
	now := time.Now()
	if g.recentlyRejected(claimed, now) {
		return nil, fmt.Errorf("%w: key %s failed within %v", security.ErrUnauthenticated, claimed, rejectHold)
	}
	ctx, cancel := context.WithTimeout(g.base, g.cfg.FetchTimeout+ndnx.CertFetchTimeout)
	defer cancel()
	if err := g.authorize(ctx, d, sigCov, member); err != nil {
		if g.base.Err() == nil {
			g.rememberRejected(claimed, now)
		}
		return nil, err
	}
	if _, err := decodeStateVector(d.Content().Join()); err != nil {
		return nil, fmt.Errorf("svs: Sync Data %s: %w", d.Name(), err)
	}
	if member.Equal(g.name) {
		return nil, nil
	}
	sent := time.UnixMicro(int64(min(micros, uint64(1)<<62)))
	if age := time.Since(sent); age < -g.cfg.SuspectAfter || age > g.cfg.SuspectAfter {
		return nil, nil
	}
	return member.Clone(), nil
}

// rejectHold is how long Sync Data signed by a key that failed
// verification is refused without another try; maxRejected bounds the
// keys remembered (past it, all are forgotten).
const (
	rejectHold  = 5 * time.Second
	maxRejected = 1024
)

// recentlyRejected reports whether key failed verification within
// rejectHold.
func (g *Group) recentlyRejected(key enc.Name, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	until, ok := g.rejected[nameKey(key)]
	return ok && now.Before(until)
}

func (g *Group) rememberRejected(key enc.Name, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.rejected) >= maxRejected {
		g.rejected = map[string]time.Time{}
	}
	g.rejected[nameKey(key)] = now.Add(rejectHold)
}

// authorize checks that d is signed by member's key, chained to the trust
// anchors, and that the policy lets that key take part in the group.
func (g *Group) authorize(ctx context.Context, d ndn.Data, sigCov enc.Wire, member enc.Name) error {
	key, err := g.node.Verifier().VerifyData(ctx, d, sigCov)
	if err != nil {
		return err
	}
	return g.allowed(key, member)
}

// allowed checks that key belongs to member and that the policy admits it.
func (g *Group) allowed(key, member enc.Name) error {
	if !identityOf(key).Equal(member) {
		return fmt.Errorf("%w: %s signed for %s", security.ErrBadSignature, key, member)
	}
	if g.cfg.Policy != nil {
		if err := g.cfg.Policy.Authorize(key, g.cfg.Group); err != nil {
			return err
		}
	}
	return nil
}

// newSvSync creates ndnd's SvSync for the group. NewSvSync panics on bad
// options (std/sync/svs.go:91-99): that becomes an error.
func (g *Group) newSvSync() (s *ndnsync.SvSync, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("%w: ndnd NewSvSync: %v", ErrBadConfig, r)
		}
	}()
	client := &syncClient{Client: g.node.Client(), g: g, engine: &guardEngine{Engine: g.node.Engine(), g: g}}
	return ndnsync.NewSvSync(ndnsync.SvSyncOpts{
		Client:            client,
		GroupPrefix:       syncGroupPrefix(g.cfg.Group),
		OnUpdate:          g.onUpdate,
		SyncDataName:      syncDataName(g.name, g.cfg.Group), // no spare capacity: WithVersion allocates
		BootTime:          g.boot,
		PeriodicTimeout:   g.cfg.SyncPeriod,
		SuppressionPeriod: g.cfg.SuppressionPeriod,
	}), nil
}

// onUpdate receives SvSync's state vector updates. It runs on SvSync's
// loop goroutine and must not block: it records the update and wakes the
// planner.
func (g *Group) onUpdate(u ndnsync.SvSyncUpdate) {
	if !usableName(u.Name) {
		return
	}
	g.mu.Lock()
	g.core.announce(u.Name, u.Boot, u.High, time.Now())
	g.mu.Unlock()
	g.signal(g.kick)
}

// multicastStrategy is the forwarder's multicast strategy: with the default
// best-route strategy a Sync Interest reaches only one member. ndnd's NDN-DV
// sets it on its own sync prefixes (dv/dv/router.go:263-279).
var multicastStrategy = enc.Name{
	enc.LOCALHOST, enc.NewGenericComponent("nfd"), enc.NewGenericComponent("strategy"), enc.NewGenericComponent("multicast"),
}

// setMulticast sets the multicast strategy on prefix at the node's
// forwarder and returns once the forwarder confirmed it. (As
// repo/groupsync does; svs may not import repo.)
func setMulticast(ctx context.Context, node *ndnx.Node, prefix enc.Name) error {
	local := strings.HasPrefix(node.Transport(), "unix:")
	mc := mgmt.NewConfig(local, sig.NewSha256Signer(), spec.Spec{})
	nonce := make([]byte, 12)
	_, _ = rand.Read(nonce) // crypto/rand never fails on Linux
	cfg := &ndn.InterestConfig{
		Lifetime:    optional.Some(min(ndnx.Lifetime(ctx), 4*time.Second)),
		Nonce:       optional.Some(binary.BigEndian.Uint32(nonce[8:])),
		MustBeFresh: true,
		SigNonce:    nonce[:8],
		SigTime:     optional.Some(time.Duration(time.Now().UnixMilli()) * time.Millisecond),
	}
	args := &mgmt.ControlArgs{Name: prefix, Strategy: &mgmt.Strategy{Name: multicastStrategy}}
	i, err := mc.MakeCmd("strategy-choice", "set", args, cfg)
	if err != nil {
		return fmt.Errorf("set multicast strategy on %s: %w", prefix, err)
	}
	d, err := node.Express(ctx, i)
	if err != nil {
		return fmt.Errorf("set multicast strategy on %s: %w", prefix, err)
	}
	s := d.Data.Signature()
	if s == nil || s.SigType() != ndn.SignatureDigestSha256 || !sig.ValidateSha256(d.SigCovered, s) {
		return fmt.Errorf("set multicast strategy on %s: response has a bad signature", prefix)
	}
	status, text, err := controlStatus(d.Data.Content())
	if err != nil {
		return fmt.Errorf("set multicast strategy on %s: %w", prefix, err)
	}
	if status != 200 {
		return fmt.Errorf("set multicast strategy on %s: forwarder said %d %s", prefix, status, text)
	}
	return nil
}

// controlStatus parses a management ControlResponse with ndnd's parser,
// guarded: it comes from the local forwarder but is still network input.
func controlStatus(content enc.Wire) (code uint64, text string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: ControlResponse parser panicked: %v", errMalformed, r)
		}
	}()
	b := content.Join()
	if !security.WellFormed(b) {
		return 0, "", fmt.Errorf("%w: ControlResponse", errMalformed)
	}
	resp, err := mgmt.ParseControlResponse(enc.NewBufferView(b), true)
	if err != nil || resp.Val == nil {
		return 0, "", fmt.Errorf("%w: ControlResponse: %v", errMalformed, err)
	}
	return resp.Val.StatusCode, resp.Val.StatusText, nil
}
