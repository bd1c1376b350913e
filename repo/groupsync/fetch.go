package groupsync

import (
	"context"
	"errors"
	"fmt"

	enc "github.com/named-data/ndnd/std/encoding"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
)

// maxIndexLen bounds the snapshots one history index may list.
const maxIndexLen = 1 << 16

// object is a fetched, verified segmented object.
type object struct {
	wires   [][]byte // each segment's Data packet, as received
	content []byte   // the segments' content, concatenated
}

// fetchPublication fetches, verifies and stores one publication.
func (m *Member) fetchPublication(tk task) pubResult {
	name := pubName(m.cfg.Group, tk.node, tk.boot, tk.seq)
	obj, oc, err := m.fetchObject(name, tk.fresh)
	if oc == outcomeStored {
		oc, err = m.store(obj.wires)
	}
	switch oc {
	case outcomeStored:
		m.mu.Lock()
		m.stats.Publications++
		m.mu.Unlock()
		return pubResult{outcome: outcomeStored, name: name, content: obj.content}
	case outcomeRejected:
		m.log.Warn("publication rejected", "name", name.String(), "err", err)
	case outcomeFailed:
		m.log.Debug("fetch publication failed; will retry", "name", name.String(), "err", err)
	}
	return pubResult{outcome: oc}
}

// fetchSnapshots fetches the publisher's history index and the snapshots
// the tracker wants, stores them (metadata, index and snapshot packets) and
// settles what they recover. It reports whether it got through.
func (m *Member) fetchSnapshots(tk task) bool {
	prefix := idxPrefix(m.cfg.Group, tk.node, tk.boot)
	mdName := join(prefix, nil, enc.NewKeywordComponent(metadataKeyword))
	md, mdWire, oc, err := m.fetchPacket(mdName, true, true)
	if oc != outcomeStored {
		m.log.Debug("fetch snapshot index metadata failed", "name", mdName.String(), "err", err)
		return false
	}
	// <prefix>/32=metadata/v=<n>/seg=0, content naming <prefix>/v=<n>
	got := md.Data.Name()
	if len(got) != len(mdName)+2 || !got.At(-2).IsVersion() || !got.At(-1).IsSegment() {
		m.countRejected()
		m.log.Warn("snapshot index metadata has an unexpected name", "name", got.String())
		return false
	}
	idxName := join(prefix, nil, got.At(-2))
	if named, err := decodeMetadataName(md.Data.Content().Join()); err != nil || !named.Equal(idxName) {
		m.countRejected()
		m.log.Warn("snapshot index metadata names another object", "name", got.String(), "err", err)
		return false
	}
	idx, oc, err := m.fetchObject(idxName, false)
	if oc != outcomeStored {
		m.log.Debug("fetch snapshot index failed", "name", idxName.String(), "err", err)
		return false
	}
	seqs, err := decodeHistoryIndex(idx.content)
	if err == nil && len(seqs) > maxIndexLen {
		err = fmt.Errorf("%w: %d snapshots", errMalformed, len(seqs))
	}
	if err != nil {
		m.countRejected()
		m.log.Warn("malformed snapshot index", "name", idxName.String(), "err", err)
		return false
	}
	if oc, err := m.store(append([][]byte{mdWire}, idx.wires...)); oc != outcomeStored {
		m.log.Debug("store snapshot index failed", "name", idxName.String(), "err", err)
		return false
	}
	// SnapshotNodeHistory.takeSnap evicts the publications up to the
	// third-newest snapshot once the index lists more than four
	// (std/sync/snapshot_node_history.go:384-392).
	var evicted uint64
	if len(seqs) > 4 {
		evicted = seqs[len(seqs)-3]
	}
	for i, version := range seqs {
		var prev uint64
		if i > 0 {
			prev = seqs[i-1]
		}
		m.mu.Lock()
		want := m.tr.snapWanted(tk.id, version, prev, evicted)
		m.mu.Unlock()
		if !want {
			continue
		}
		name := snapName(m.cfg.Group, tk.node, tk.boot, version)
		snap, oc, err := m.fetchObject(name, false)
		if oc != outcomeStored {
			m.log.Debug("fetch snapshot failed", "name", name.String(), "err", err)
			return false
		}
		entries, err := decodeHistorySnap(snap.content)
		if err != nil {
			m.countRejected()
			m.log.Warn("malformed snapshot", "name", name.String(), "err", err)
			return false
		}
		if oc, err := m.store(snap.wires); oc != outcomeStored {
			m.log.Debug("store snapshot failed", "name", name.String(), "err", err)
			return false
		}
		m.mu.Lock()
		ds, ok := m.tr.onSnapshot(tk.id, version, prev, evicted, entries)
		if ok {
			m.stats.Snapshots++
			m.queue = append(m.queue, ds...)
		} else {
			m.stats.Rejected++
		}
		m.mu.Unlock()
		if !ok {
			m.log.Warn("snapshot does not fit the index; ignored", "name", name.String())
			return false
		}
		if len(ds) > 0 {
			signal(m.deliverKick)
		}
	}
	return true
}

func (m *Member) countRejected() {
	m.mu.Lock()
	m.stats.Rejected++
	m.mu.Unlock()
}

// fetchObject fetches every segment of the object with a versioned name
// (<name>/seg=0 .. the FinalBlockId of segment 0), verifying each.
func (m *Member) fetchObject(name enc.Name, fresh bool) (object, outcome, error) {
	var obj object
	last := uint64(0)
	for seg := uint64(0); seg <= last; seg++ {
		segName := join(name, nil, enc.NewSegmentComponent(seg))
		d, wire, oc, err := m.fetchPacket(segName, false, fresh)
		if oc != outcomeStored {
			return object{}, oc, err
		}
		if seg == 0 {
			if fb, ok := d.Data.FinalBlockID().Get(); ok {
				if !fb.IsSegment() {
					m.countRejected()
					return object{}, outcomeRejected, fmt.Errorf("%w: %s: FinalBlockId is not a segment number", errMalformed, segName)
				}
				last = fb.NumberVal()
			}
			if last >= uint64(m.cfg.MaxSegments) {
				m.countRejected()
				return object{}, outcomeRejected, fmt.Errorf("%s has %d segments, more than MaxSegments (%d)", name, last+1, m.cfg.MaxSegments)
			}
		}
		obj.wires = append(obj.wires, wire)
		for _, b := range d.Data.Content() {
			obj.content = append(obj.content, b...)
		}
	}
	if obj.content == nil {
		obj.content = []byte{}
	}
	return obj, outcomeStored, nil
}

// fetchPacket fetches one Data packet, checks its name and (with Verify)
// its signature, and returns it with a private copy of its wire. Outcomes:
// outcomeStored (fetched fine; nothing is stored yet), outcomeRejected,
// outcomeFailed (network), outcomeAborted (closing).
func (m *Member) fetchPacket(name enc.Name, canBePrefix, fresh bool) (*ndnx.Data, []byte, outcome, error) {
	ctx, cancel := context.WithTimeout(m.base, m.cfg.FetchTimeout)
	defer cancel()
	d, err := m.node.Fetch(ctx, name, canBePrefix, fresh)
	if err != nil {
		if m.base.Err() != nil {
			return nil, nil, outcomeAborted, err
		}
		m.mu.Lock()
		m.stats.FetchErrors++
		m.mu.Unlock()
		return nil, nil, outcomeFailed, err
	}
	got := d.Data.Name()
	if (canBePrefix && !name.IsPrefix(got)) || (!canBePrefix && !name.Equal(got)) {
		m.countRejected()
		return nil, nil, outcomeRejected, fmt.Errorf("asked for %s, got %s", name, got)
	}
	if m.cfg.Verify {
		if _, err := m.node.VerifyData(m.base, d); err != nil {
			switch {
			case m.base.Err() != nil:
				return nil, nil, outcomeAborted, err
			case isNetworkError(err):
				// the signer's certificate could not be fetched: try again
				m.mu.Lock()
				m.stats.FetchErrors++
				m.mu.Unlock()
				return nil, nil, outcomeFailed, err
			}
			m.countRejected()
			return nil, nil, outcomeRejected, err
		}
	}
	return d, joinCopy(d.Raw), outcomeStored, nil
}

// isNetworkError reports whether err comes from the network (a timeout,
// the forwarder being away) rather than from the packet.
func isNetworkError(err error) bool {
	return errors.Is(err, ndnx.ErrTimeout) || errors.Is(err, ndnx.ErrFaceDown) || errors.Is(err, ndnx.ErrNack) ||
		errors.Is(err, context.DeadlineExceeded)
}

// store puts packets into the Sink, in order.
func (m *Member) store(wires [][]byte) (outcome, error) {
	for _, w := range wires {
		if err := m.cfg.Sink.PutData(m.base, w); err != nil {
			if m.base.Err() != nil {
				return outcomeAborted, err
			}
			m.mu.Lock()
			m.stats.SinkErrors++
			m.mu.Unlock()
			m.log.Warn("sink PutData failed; will retry", "err", err)
			return outcomeFailed, fmt.Errorf("%w: %w", ErrSink, err)
		}
		m.mu.Lock()
		m.stats.Packets++
		m.stats.Bytes += uint64(len(w))
		m.mu.Unlock()
	}
	return outcomeStored, nil
}
