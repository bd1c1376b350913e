package repo

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/repo/groupsync"
	"github.com/ndn-invoke/ndn-invoke/repo/store"
)

// group is a joined sync group: an ALO group's member, or another kind's
// archiver.
type group struct {
	spec   GroupSpec
	member io.Closer
}

// groupRecord is a joined group as persisted.
type groupRecord struct {
	Group           []byte `json:"group"`
	MulticastPrefix []byte `json:"multicast_prefix,omitempty"`
	HistorySnapshot uint64 `json:"history_snapshot,omitempty"`
	Kind            string `json:"kind,omitempty"`
}

func groupKey(g enc.Name) string { return hex.EncodeToString(store.NameKey(g)) }

// JoinGroup makes the repo a passive member of the SVS v3 group g.Group:
// it stores every publication of the group (and serves them under the
// group prefix), from now on and across restarts, until LeaveGroup.
// Joining a group already joined does nothing. A group of another kind
// (GroupSpec.Kind) is kept by the archiver Config.Archivers starts for
// it. Errors: ErrBadRequest (empty group, HistorySnapshot below 10, a
// kind without archiver), ErrClosed, groupsync's, the archiver's and the
// store's errors.
func (r *Repo) JoinGroup(ctx context.Context, g GroupSpec) error {
	if len(g.Group) == 0 {
		return fmt.Errorf("%w: join needs a group name", ErrBadRequest)
	}
	if _, ok := r.cfg.Archivers[g.Kind]; g.Kind != "" && !ok {
		return fmt.Errorf("%w: no archiver for groups of kind %q", ErrBadRequest, g.Kind)
	}
	if g.HistorySnapshot != 0 && g.HistorySnapshot < 10 {
		return fmt.Errorf("%w: history snapshot threshold %d is below 10", ErrBadRequest, g.HistorySnapshot)
	}
	key := groupKey(g.Group)
	r.mu.Lock()
	_, have := r.groups[key]
	r.mu.Unlock()
	if have {
		return nil
	}
	rec, err := json.Marshal(groupRecord{Group: nameKey(g.Group), MulticastPrefix: nameKey(g.MulticastPrefix), HistorySnapshot: g.HistorySnapshot, Kind: g.Kind})
	if err != nil {
		return err
	}
	if err := r.st.PutRecord(ctx, recGroup+key, rec); err != nil {
		return err
	}
	return r.startGroup(ctx, g)
}

// startGroup serves the group prefix and starts its member.
func (r *Repo) startGroup(ctx context.Context, g GroupSpec) error {
	g = GroupSpec{Group: g.Group.Clone(), MulticastPrefix: g.MulticastPrefix.Clone(), HistorySnapshot: g.HistorySnapshot, Kind: g.Kind}
	var m io.Closer
	if g.Kind != "" {
		start, ok := r.cfg.Archivers[g.Kind]
		if !ok {
			return fmt.Errorf("%w: no archiver for groups of kind %q", ErrBadRequest, g.Kind)
		}
		a, err := start(ctx, r.node, g.Group, archiveSink{r: r, group: g.Group})
		if err != nil {
			if a != nil {
				_ = a.Close()
			}
			return fmt.Errorf("repo: join %s group %s: %w", g.Kind, g.Group, err)
		}
		m = a
	} else {
		if err := r.serve(ctx, g.Group, true); err != nil {
			return err
		}
		cfg := groupsync.DefaultConfig()
		cfg.Group, cfg.MulticastPrefix, cfg.HistorySnapshot = g.Group, g.MulticastPrefix, g.HistorySnapshot
		cfg.Sink = groupSink{r}
		cfg.Verify = r.cfg.VerifyData
		cfg.Logger = r.log
		cfg.OnPublication = r.cfg.OnGroupPublication
		gm, err := groupsync.Join(ctx, r.node, cfg)
		if err != nil {
			return fmt.Errorf("repo: join %s: %w", g.Group, err)
		}
		m = gm
	}
	key := groupKey(g.Group)
	r.mu.Lock()
	_, dup := r.groups[key]
	if r.closed || dup {
		r.mu.Unlock()
		_ = m.Close()
		if dup {
			return nil
		}
		return ErrClosed
	}
	r.groups[key] = &group{spec: g, member: m}
	r.mu.Unlock()
	r.log.Info("joined sync group", "group", g.Group, "kind", g.Kind)
	return nil
}

// LeaveGroup stops storing the group's publications. What was stored stays
// stored and served. Errors: ErrNotJoined, store errors.
func (r *Repo) LeaveGroup(ctx context.Context, name enc.Name) error {
	key := groupKey(name)
	r.mu.Lock()
	g, ok := r.groups[key]
	delete(r.groups, key)
	r.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %s", ErrNotJoined, name)
	}
	err := g.member.Close()
	if derr := r.st.DeleteRecord(ctx, recGroup+key); derr != nil && !errors.Is(derr, store.ErrNotFound) {
		err = errors.Join(err, derr)
	}
	r.log.Info("left sync group", "group", name)
	return err
}

// Groups returns the groups the repo is a member of.
func (r *Repo) Groups() []GroupSpec {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]GroupSpec, 0, len(r.groups))
	for _, g := range r.groups {
		out = append(out, g.spec)
	}
	return out
}

// rejoinGroups starts the members of the groups recorded in the store.
func (r *Repo) rejoinGroups(ctx context.Context) error {
	var specs []GroupSpec
	err := r.st.Records(recGroup, func(_ string, v []byte) bool {
		var rec groupRecord
		if json.Unmarshal(v, &rec) == nil {
			if g := keyName(rec.Group); len(g) > 0 {
				specs = append(specs, GroupSpec{Group: g, MulticastPrefix: keyName(rec.MulticastPrefix), HistorySnapshot: rec.HistorySnapshot, Kind: rec.Kind})
			}
		}
		return true
	})
	if err != nil {
		return err
	}
	for _, g := range specs {
		if _, ok := r.cfg.Archivers[g.Kind]; g.Kind != "" && !ok {
			r.log.Warn("no archiver for a joined group: not rejoined", "group", g.Group, "kind", g.Kind)
			continue
		}
		if err := r.startGroup(ctx, g); err != nil {
			return err
		}
	}
	return nil
}

// groupSink stores a member's publications and state in the repo.
type groupSink struct{ r *Repo }

func (s groupSink) PutData(ctx context.Context, wire []byte) error {
	d, err := dataName(wire)
	if err != nil {
		return err
	}
	return s.r.st.Put(ctx, d, wire, store.PutOptions{})
}

func (s groupSink) LoadState(group enc.Name) ([]byte, error) {
	b, err := s.r.st.Record(recGState + groupKey(group))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return b, err
}

func (s groupSink) SaveState(ctx context.Context, group enc.Name, state []byte) error {
	return s.r.st.PutRecord(ctx, recGState+groupKey(group), state)
}
