package groupsync

import (
	"context"
	"errors"
	"fmt"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	"github.com/named-data/ndnd/std/types/optional"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/security"
)

// maxSyncData bounds the Sync Data carried by a Sync Interest; an NDN
// packet is at most 8800 bytes on most links, so this is generous.
const maxSyncData = 64 << 10

// syncLifetime is the lifetime of the Sync Interests we send, as SvSync's.
const syncLifetime = time.Second

// errBadSync is wrapped by the reasons a Sync Interest is dropped.
var errBadSync = errors.New("bad Sync Data")

// onSync handles a Sync Interest. It runs on one of the node's handler
// goroutines: parsing and verification happen there, outside the lock.
func (m *Member) onSync(ctx context.Context, in *ndnx.Incoming) {
	ap := in.Interest.AppParam()
	if ap == nil {
		return // SvSync ignores these too
	}
	entries, wire, err := m.readSyncData(ctx, ap)
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	if err != nil {
		m.stats.BadSync++
		m.mu.Unlock()
		m.log.Debug("dropped Sync Interest", "err", err)
		return
	}
	m.stats.SyncInterests++
	news := m.tr.onVector(entries, wire, time.Now())
	m.mu.Unlock()
	signal(m.kick)
	if news {
		signal(m.saveKick)
	}
}

// readSyncData parses, checks and (with Verify) verifies the Sync Data an
// Interest carries, and returns its state vector and a private copy of its
// wire.
func (m *Member) readSyncData(ctx context.Context, ap enc.Wire) ([]svEntry, []byte, error) {
	wire := joinCopy(ap)
	if len(wire) > maxSyncData {
		return nil, nil, fmt.Errorf("%w: %d bytes", errBadSync, len(wire))
	}
	d, sigCov, err := parseData(wire)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errBadSync, err)
	}
	if !m.cfg.Group.IsPrefix(d.Name()) {
		return nil, nil, fmt.Errorf("%w: %s is outside the group", errBadSync, d.Name())
	}
	if m.cfg.Verify {
		if _, err := m.node.VerifyData(ctx, &ndnx.Data{Data: d, Raw: enc.Wire{wire}, SigCovered: sigCov}); err != nil {
			return nil, nil, fmt.Errorf("%w: %s: %w", errBadSync, d.Name(), err)
		}
	}
	entries, err := decodeStateVector(d.Content().Join())
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %w", errBadSync, d.Name(), err)
	}
	return entries, wire, nil
}

// sendSync multicasts a Sync Interest carrying wire (a publisher's Sync
// Data). Passive SVS re-sends what it heard: it has no state of its own to
// sign. Nothing answers a Sync Interest, so we do not wait.
func (m *Member) sendSync(wire []byte) {
	i, err := m.node.MakeInterest(m.base, m.sync, &ndn.InterestConfig{Lifetime: optional.Some(syncLifetime)}, enc.Wire{wire}, false)
	if err == nil {
		err = m.node.Engine().Express(i, nil)
	}
	if err != nil {
		m.log.Debug("send Sync Interest", "err", err)
	}
}

// parseData is ndnd's ReadData on untrusted bytes (security.ReadData: the
// TLV structure is checked first and a panic becomes an error). Errors wrap
// errMalformed.
func parseData(b []byte) (ndn.Data, enc.Wire, error) {
	d, sigCov, err := security.ReadData(b)
	if err != nil {
		return nil, nil, malformed(err)
	}
	return d, sigCov, nil
}

// joinCopy returns the bytes of w in a new slice (enc.Wire.Join returns
// its only buffer as is, which may belong to the face).
func joinCopy(w enc.Wire) []byte {
	n := 0
	for _, b := range w {
		n += len(b)
	}
	out := make([]byte, 0, n)
	for _, b := range w {
		out = append(out, b...)
	}
	return out
}
