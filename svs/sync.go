package svs

import (
	"context"
	"fmt"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	ndnsync "github.com/named-data/ndnd/std/sync"

	"github.com/ndn-invoke/ndn-invoke/internal/svsync"
	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/security"
)

// The group runs ndnd's SvSync through internal/svsync, which owns what
// SvSync leaves loose (see its file comment); this file holds the group's
// side: the check of Sync Data and the handling of SvSync's updates.

// checkSync is the svsync.CheckFunc of the group: checkSyncData, then the
// member it proves alive is heard from.
func (g *Group) checkSync(_ context.Context, d ndn.Data, sigCov enc.Wire, _ []svsync.Entry) error {
	member, err := g.checkSyncData(d, sigCov)
	if err != nil {
		return err
	}
	if member != nil {
		g.mu.Lock()
		g.core.heard(member, time.Now())
		g.mu.Unlock()
		g.signal(g.kick)
	}
	return nil
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

// newSync creates the group's SvSync (through svsync).
func (g *Group) newSync() (*svsync.Sync, error) {
	s, err := svsync.New(svsync.Config{
		Node:              g.node,
		Signer:            g.id.Signer(),
		GroupPrefix:       syncGroupPrefix(g.cfg.Group),
		SyncDataName:      syncDataName(g.name, g.cfg.Group), // no spare capacity: WithVersion allocates
		BootTime:          g.boot,
		PeriodicTimeout:   g.cfg.SyncPeriod,
		SuppressionPeriod: g.cfg.SuppressionPeriod,
		OnUpdate:          g.onUpdate,
		Check:             g.checkSync,
		Validators:        validators,
		Queue:             validateQueue,
		Logger:            g.log,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	return s, nil
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
