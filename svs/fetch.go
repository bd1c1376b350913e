package svs

import (
	"context"
	"errors"
	"fmt"
	"time"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
)

// planLoop is the group's clock: it applies failure detection, starts
// fetches, and queues heartbeats. It sleeps until kicked (an announcement,
// a finished fetch, a publication) or until the core's next deadline.
func (g *Group) planLoop() {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := time.Now()
		g.mu.Lock()
		g.core.tick(now)
		changed := g.takeChangesLocked()
		tasks := g.core.plan(now)
		wake := g.core.nextWake(now)
		beat := false
		if !g.leaving && !g.closed && !g.alivePend { // a pending heartbeat kicks us when published
			due := g.lastPublish.Add(g.cfg.HeartbeatPeriod)
			if !now.Before(due) {
				g.enqueue(&pendingRecord{rec: record{kind: recAlive}})
				beat = true
			} else if wake.IsZero() || due.Before(wake) {
				wake = due
			}
		}
		g.mu.Unlock()
		if changed {
			g.signal(g.notifyKick)
		}
		if beat {
			g.signal(g.pubKick)
		}
		for _, t := range tasks {
			g.goOwned(func() { g.fetch(t) })
		}
		if !wake.IsZero() {
			timer.Reset(max(wake.Sub(now), time.Millisecond))
		}
		select {
		case <-g.base.Done():
			return
		case <-g.kick:
		case <-timer.C:
		case <-g.faceUp:
			// The forwarder came back: it may have restarted and forgotten
			// the multicast strategy (the node puts the routes back). Set
			// it again, then publish a heartbeat, which sends a Sync
			// Interest.
			g.goOwned(g.onFaceUp)
		}
		timer.Stop()
	}
}

// takeChangesLocked moves the core's status changes to the notification
// queue and reports whether there were any. Called with mu held.
func (g *Group) takeChangesLocked() bool {
	ch := g.core.takeChanges()
	if len(ch) == 0 {
		return false
	}
	g.changes = append(g.changes, ch...)
	if over := len(g.changes) - maxChanges; over > 0 {
		g.changes = append(g.changes[:0:0], g.changes[over:]...)
	}
	return true
}

// fetch fetches, verifies and processes one publication.
func (g *Group) fetch(t fetchTask) {
	p, out, err := g.fetchPublication(t)
	switch out {
	case fetchFailed:
		g.log.Debug("fetch failed", "member", t.name.String(), "seq", t.seq, "err", err)
	case fetchRejected:
		g.log.Warn("publication rejected", "member", t.name.String(), "seq", t.seq, "err", err)
	}
	now := time.Now()
	g.mu.Lock()
	switch out {
	case fetchOK:
		g.stats.Fetched++
	case fetchFailed:
		g.stats.FetchErrors++
	case fetchRejected:
		g.stats.Rejected++
	}
	acts := g.core.fetched(t, out, p, now)
	g.takeChangesLocked()
	var jobs []queryJob
	for _, r := range acts {
		g.ltime = max(g.ltime, r.ltime)
		switch r.kind {
		case recEvent:
			g.stats.EventsReceived++
			g.events.push(&Event{Name: r.label, Payload: r.payload, From: t.name.Clone(), LTime: r.ltime})
		case recQuery:
			if j, ok := g.acceptQuery(t, r, now); ok {
				jobs = append(jobs, j)
			}
		}
	}
	g.mu.Unlock()
	g.signal(g.notifyKick)
	g.signal(g.kick)
	for _, j := range jobs {
		g.dispatchQuery(j)
	}
}

// fetchPublication fetches publication t.seq of t.name and checks it: the
// exact name, a signature chain to the trust anchors, a key of t.name's
// admitted by the policy, and well-formed content.
func (g *Group) fetchPublication(t fetchTask) (*publication, fetchOutcome, error) {
	ctx, cancel := context.WithTimeout(g.base, g.cfg.FetchTimeout)
	defer cancel()
	name := pubName(t.name, g.cfg.Group, t.boot, t.seq)
	// MustBeFresh: a publication stays fresh in caches for HeartbeatPeriod,
	// so a copy served by the forwarder's cache still proves its member
	// was alive within about that long.
	d, err := g.node.Fetch(ctx, name, false, true)
	if err != nil {
		if g.base.Err() != nil {
			return nil, fetchAborted, err
		}
		return nil, fetchFailed, err
	}
	if !d.Data.Name().Equal(name) {
		return nil, fetchRejected, fmt.Errorf("asked for %s, got %s", name, d.Data.Name())
	}
	if s := d.Data.Signature(); s == nil || g.allowed(s.KeyName(), t.name) != nil {
		// Not even the claimed key may publish for t.name: no need to
		// verify (or fetch certificates).
		return nil, fetchRejected, fmt.Errorf("%s is not signed by a key of %s admitted by the policy", name, t.name)
	}
	key, err := g.node.VerifyData(g.base, d)
	if err == nil {
		err = g.allowed(key, t.name)
	}
	if err != nil {
		switch {
		case g.base.Err() != nil:
			return nil, fetchAborted, err
		case isNetworkError(err):
			return nil, fetchFailed, err // the certificate could not be fetched
		}
		return nil, fetchRejected, err
	}
	p, err := decodePublication(d.Data.Content().Join())
	if err != nil {
		return nil, fetchRejected, err
	}
	for _, r := range p.records {
		if r.kind == recGone {
			return nil, fetchGone, nil
		}
	}
	return p, fetchOK, nil
}

// isNetworkError reports whether err comes from the network (a timeout,
// the forwarder being away) rather than from the packet.
func isNetworkError(err error) bool {
	return errors.Is(err, ndnx.ErrTimeout) || errors.Is(err, ndnx.ErrFaceDown) || errors.Is(err, ndnx.ErrNack) ||
		errors.Is(err, context.DeadlineExceeded)
}

// onFaceUp announces this member after the connection to the forwarder
// came back (the Node sets the multicast strategy and routes again).
func (g *Group) onFaceUp() {
	g.mu.Lock()
	if !g.leaving && !g.closed && !g.alivePend {
		g.enqueue(&pendingRecord{rec: record{kind: recAlive}})
	}
	g.mu.Unlock()
	g.signal(g.pubKick)
}
