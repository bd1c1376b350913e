package pyrepo

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	"github.com/named-data/ndnd/std/types/optional"

	"github.com/ndn-invoke/ndn-invoke/internal/tlv"
	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/repo"
	"github.com/ndn-invoke/ndn-invoke/security"
)

// Backend is what the protocol needs from the repo core (*repo.Repo
// satisfies it). Its methods are called from the Server's handler and
// execution goroutines, concurrently, never while the Server holds a lock;
// they must honor ctx.
type Backend interface {
	// Insert starts an asynchronous fetch job for spec and returns it.
	Insert(ctx context.Context, spec repo.InsertSpec) (repo.Job, error)
	// Job returns the job with this id, if the core still knows it.
	Job(id string) (repo.Job, bool)
	// Delete removes the packet name (prefix false) or every packet under
	// it (prefix true) and returns how many packets it removed.
	Delete(ctx context.Context, name enc.Name, prefix bool) (int, error)
	// JoinGroup starts storing the publications of a sync group.
	JoinGroup(ctx context.Context, g repo.GroupSpec) error
	// LeaveGroup stops storing a sync group.
	LeaveGroup(ctx context.Context, group enc.Name) error
	// Authorize decides whether the key caller may do verb ("insert",
	// "delete", "join", "leave" or "status") on target. A denial matches
	// security.ErrPermissionDenied; any other error also rejects.
	Authorize(ctx context.Context, caller enc.Name, verb string, target enc.Name) error
	// Count increments a metrics counter, e.g. ("pyrepo", "insert", "ok").
	Count(protocol, verb, result string)
}

// Results passed to Backend.Count as its third argument.
const (
	ResultOK              = "ok"              // command executed (insert: jobs started), or status answered
	ResultFailed          = "failed"          // the backend returned an error
	ResultMalformed       = "malformed"       // undecodable notification, command or query
	ResultUnauthenticated = "unauthenticated" // message or check not signed by a trusted key
	ResultDenied          = "denied"          // Authorize refused
	ResultDuplicate       = "duplicate"       // replayed or retransmitted notification
	ResultUnreachable     = "unreachable"     // the message Data could not be fetched
	ResultBusy            = "busy"            // MaxInFlight commands already running
	ResultNotFound        = "notfound"        // check for an unknown request number
)

// protocol is the first argument of Backend.Count.
const protocol = "pyrepo"

// Size limits of Interest ApplicationParameters.
const (
	maxNotifySize = 2048 // NotifyAppParam: a name, a nonce and a hint
	maxQuerySize  = 1024 // RepoStatQuery: a 32-byte digest
	maxNonceLen   = 64
)

// checkFreshness is the FreshnessPeriod of check replies (ndn-python-repo
// uses 1 s).
const checkFreshness = time.Second

// Server speaks the ndn-python-repo command protocol for a Backend: it
// subscribes to the command topics, fetches and authenticates each command
// message, authorizes it, runs it on the Backend, and answers check
// Interests. Safe for concurrent use.
type Server struct {
	node     *ndnx.Node
	b        Backend
	cfg      Config
	log      *slog.Logger
	sem      chan struct{} // one slot per command in flight
	base     context.Context
	cancel   context.CancelFunc
	handlers []enc.Name // attached handler prefixes
	routes   []enc.Name // registered prefixes

	mu      sync.Mutex
	closed  bool
	wg      sync.WaitGroup // handlers in progress and execution goroutines
	records *recordTable
	seen    *seenTable
}

// Serve attaches the protocol's handlers for cfg.Prefix to node and, unless
// cfg.NoRegister, registers their prefixes with the forwarder; it returns
// once commands can reach the server. The node must have an identity (to
// sign replies) and trust anchors (to verify commands): ErrNoIdentity
// otherwise. Other errors: cfg.Validate's, the node's Handle and Register
// errors. On error nothing stays attached.
func Serve(ctx context.Context, node *ndnx.Node, b Backend, cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if node == nil || node.Identity() == nil || node.Verifier() == nil {
		return nil, ErrNoIdentity
	}
	if b == nil {
		return nil, errors.New("pyrepo: Serve needs a Backend")
	}
	cfg = cfg.withDefaults()
	s := &Server{
		node:    node,
		b:       b,
		cfg:     cfg,
		log:     cfg.Logger,
		sem:     make(chan struct{}, cfg.MaxInFlight),
		records: newRecordTable(cfg.MaxRecords, cfg.StatusTTL, cfg.RecordMaxAge),
		seen:    newSeenTable(cfg.MaxDedup, cfg.DedupWindow),
	}
	s.base, s.cancel = context.WithCancel(context.Background())
	for _, v := range Verbs {
		for _, h := range []struct {
			prefix enc.Name
			serve  func(context.Context, *ndnx.Incoming)
		}{
			{v.NotifyPrefix(cfg.Prefix), s.notifyHandler(v)},
			{v.CheckPrefix(cfg.Prefix), s.checkHandler(v)},
		} {
			if err := node.Handle(h.prefix, s.track(h.serve)); err != nil {
				s.Close()
				return nil, err
			}
			s.handlers = append(s.handlers, h.prefix)
			if cfg.NoRegister {
				continue
			}
			if err := node.Register(ctx, h.prefix, nil); err != nil {
				s.Close()
				return nil, err
			}
			s.routes = append(s.routes, h.prefix)
		}
	}
	s.log.Info("serving ndn-python-repo protocol", "public_status", cfg.PublicStatus)
	return s, nil
}

// Close detaches the handlers, withdraws the routes, cancels commands being
// fetched or executed (their Backend calls see ctx cancelled) and waits for
// them. Idempotent and safe for concurrent use; it returns nil.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()

	for _, p := range s.handlers {
		_ = s.node.Unhandle(p)
	}
	s.cancel()
	if len(s.routes) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		for _, p := range s.routes {
			if err := s.node.Unregister(ctx, p); err != nil {
				s.log.Debug("unregister failed", "prefix", p.String(), "err", err)
			}
		}
		cancel()
	}
	s.wg.Wait()
	return nil
}

// Prefix is the repo name the server answers for.
func (s *Server) Prefix() enc.Name { return s.cfg.Prefix.Clone() }

// track wraps a handler so that Close waits for it and its context ends at
// the Interest's deadline or at Close.
func (s *Server) track(h func(context.Context, *ndnx.Incoming)) ndnx.Handler {
	return func(_ context.Context, in *ndnx.Incoming) {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return
		}
		s.wg.Add(1)
		s.mu.Unlock()
		defer s.wg.Done()
		ctx, cancel := context.WithDeadline(s.base, in.Deadline)
		defer cancel()
		h(ctx, in)
	}
}

// goOwned runs f on a goroutine Close waits for. It must be called from a
// tracked handler (so the wait group is not at zero while Close waits).
func (s *Server) goOwned(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

func (s *Server) count(v string, result string) { s.b.Count(protocol, v, result) }

// notifyHandler serves <repo>/<verb>/notify: PubSub notifications carrying
// a publisher prefix and a nonce.
func (s *Server) notifyHandler(v Verb) func(context.Context, *ndnx.Incoming) {
	topic := v.Topic(s.cfg.Prefix)
	np := v.NotifyPrefix(s.cfg.Prefix)
	action := v.Action()
	return func(_ context.Context, in *ndnx.Incoming) {
		name := in.Interest.Name()
		if len(name) > len(np)+1 { // <topic>/notify[/params-sha256] only
			s.log.Debug("notify Interest with extra components ignored", "name", name.String())
			return
		}
		p, err := s.decodeNotify(in)
		if err != nil {
			s.log.Warn("malformed notification dropped", "verb", action, "err", err)
			s.count(action, ResultMalformed)
			return
		}
		msgName := MsgName(p.Publisher, topic, p.Nonce)
		key := msgName.TlvStr()
		log := s.log.With("verb", action, "message", msgName.String())

		s.mu.Lock()
		state := s.seen.claim(key, s.cfg.Now())
		s.mu.Unlock()
		switch state {
		case seenDone:
			log.Info("replayed or retransmitted notification: not run again")
			s.count(action, ResultDuplicate)
			s.ack(in)
			return
		case seenPending:
			log.Debug("notification already being handled")
			s.count(action, ResultDuplicate)
			return
		}
		select {
		case s.sem <- struct{}{}:
		default:
			s.forget(key)
			log.Warn("too many commands in flight: notification dropped", "max_in_flight", s.cfg.MaxInFlight)
			s.count(action, ResultBusy)
			return
		}
		// Fetching can take the whole notify lifetime: do it on a goroutine
		// of ours, not on one of the Node's workers, which every handler of
		// the node shares.
		s.goOwned(func() {
			defer func() { <-s.sem }()
			ctx, cancel := context.WithDeadline(s.base, in.Deadline)
			defer cancel()
			s.handleMessage(ctx, in, v, p, key, log)
		})
	}
}

// handleMessage fetches, authenticates and admits one notified command,
// acknowledges the notification, and executes the command.
func (s *Server) handleMessage(ctx context.Context, in *ndnx.Incoming, v Verb, p *NotifyAppParam, key string, log *slog.Logger) {
	action, topic := v.Action(), v.Topic(s.cfg.Prefix)
	d, err := s.fetchMessage(ctx, MsgName(p.Publisher, topic, p.Nonce), p.PublisherFwdHint)
	if err != nil {
		s.forget(key)
		log.Warn("cannot fetch command message", "err", err)
		s.count(action, ResultUnreachable)
		return
	}
	if err := checkMsgName(p.Publisher, topic, p.Nonce, d.Data.Name()); err != nil {
		s.forget(key)
		log.Warn("command message rejected", "err", err)
		s.count(action, ResultUnauthenticated)
		return
	}
	caller, err := s.node.VerifyData(ctx, d)
	if err != nil {
		s.forget(key)
		log.Warn("command message rejected: not signed by a key that chains to the trust anchors "+
			"(an NDNts client needs a pubSigner certified by them, not the default digest signing)", "err", err)
		s.count(action, ResultUnauthenticated)
		s.ack(in) // received; a check answers NOT-FOUND
		return
	}
	s.mu.Lock()
	s.seen.done(key)
	s.mu.Unlock()

	rec, run := s.admit(ctx, v, caller, d.Data.Content().Join(), log)
	s.ack(in)
	if run {
		s.execute(rec, log)
	}
}

func (s *Server) decodeNotify(in *ndnx.Incoming) (*NotifyAppParam, error) {
	ap := in.Interest.AppParam()
	if ap == nil {
		return nil, fmt.Errorf("%w: notify Interest without ApplicationParameters", ErrMalformed)
	}
	if l := ap.Length(); l > maxNotifySize {
		return nil, fmt.Errorf("%w: %d-byte NotifyAppParam, max %d", ErrMalformed, l, maxNotifySize)
	}
	p, err := DecodeNotifyAppParam(ap.Join())
	if err != nil {
		return nil, err
	}
	switch {
	case !nameUsable(p.Publisher, false):
		return nil, fmt.Errorf("%w: publisher prefix empty or with a component over %d bytes", ErrMalformed, tlv.NdndMaxComponentLen)
	case len(p.Nonce) == 0 || len(p.Nonce) > maxNonceLen:
		return nil, fmt.Errorf("%w: %d-byte nonce, want 1..%d", ErrMalformed, len(p.Nonce), maxNonceLen)
	case !nameUsable(p.PublisherFwdHint, true):
		return nil, fmt.Errorf("%w: forwarding hint with a component over %d bytes", ErrMalformed, tlv.NdndMaxComponentLen)
	}
	return p, nil
}

func (s *Server) forget(key string) {
	s.mu.Lock()
	s.seen.forget(key)
	s.mu.Unlock()
}

// fetchMessage expresses the message Interest up to FetchAttempts times,
// within ctx (which ends at the notify Interest's deadline), keeping a
// little time to acknowledge the notification.
func (s *Server) fetchMessage(ctx context.Context, name, hint enc.Name) (*ndnx.Data, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(ndnx.DefaultLifetime)
	}
	deadline = deadline.Add(-100 * time.Millisecond)
	cfg := &ndn.InterestConfig{MustBeFresh: true} // never a stale cached copy
	if len(hint) > 0 {
		cfg.ForwardingHint = []enc.Name{hint}
	}
	err := ndnx.ErrTimeout
	for left := s.cfg.FetchAttempts; left > 0; left-- {
		lifetime := time.Until(deadline) / time.Duration(left)
		if lifetime < 50*time.Millisecond {
			break
		}
		c := *cfg
		c.Lifetime = optional.Some(lifetime)
		actx, cancel := context.WithTimeout(ctx, lifetime)
		var i *ndn.EncodedInterest
		i, err = s.node.MakeInterest(actx, name, &c, nil, false)
		if err != nil {
			cancel()
			return nil, err
		}
		var d *ndnx.Data
		d, err = s.node.Express(actx, i)
		cancel()
		if err == nil {
			return d, nil
		}
		if !errors.Is(err, ndnx.ErrTimeout) && !errors.Is(err, ndnx.ErrNack) && !errors.Is(err, context.DeadlineExceeded) {
			return nil, err
		}
	}
	return nil, err
}

// ack answers a notify Interest with an empty Data, as ndn-python-repo does
// once it has the message.
func (s *Server) ack(in *ndnx.Incoming) {
	w, err := s.node.SignData(in.Interest.Name(), nil, nil)
	if err == nil {
		err = in.Reply(w)
	}
	if err != nil {
		s.log.Debug("cannot acknowledge notification", "err", err)
	}
}

// admit decodes, validates and authorizes an authentic command, stores its
// status record, and reports whether anything is left to execute.
func (s *Server) admit(ctx context.Context, v Verb, caller enc.Name, content []byte, log *slog.Logger) (*record, bool) {
	action := v.Action()
	sum := sha256.Sum256(content)
	rec := &record{key: string(sum[:]), verb: v, caller: caller, created: s.cfg.Now()}
	log = log.With("request_no", fmt.Sprintf("%x", sum[:]), "caller", caller.String())
	store := func() {
		s.mu.Lock()
		s.records.put(rec, rec.created)
		s.mu.Unlock()
	}
	p, err := s.decodeCommand(v, content)
	if err != nil {
		rec.fixed = StatusMalformed
		store()
		log.Warn("malformed command", "err", err)
		s.count(action, ResultMalformed)
		return rec, false
	}

	targets := []enc.Name{}
	if v.sync() {
		for _, g := range p.SyncGroups {
			st := StatusRoger
			if !nameUsable(g.SyncPrefix, false) || !nameUsable(g.RegisterPrefix, true) ||
				(v == VerbJoin && g.RegisterPrefix != nil && g.RegisterPrefix.Equal(g.SyncPrefix)) {
				st = StatusMalformed
			} else {
				targets = append(targets, g.SyncPrefix)
			}
			rec.groups = append(rec.groups, groupState{param: g, status: st})
		}
	} else {
		for _, o := range p.Objects {
			st := StatusRoger
			if err := s.checkObject(v, o); err != nil {
				log.Warn("malformed object", "name", o.Name.String(), "err", err)
				st = StatusMalformed
			} else {
				targets = append(targets, o.Name)
			}
			rec.objs = append(rec.objs, objState{param: o, status: st})
		}
	}

	for _, t := range targets {
		if err := s.b.Authorize(ctx, caller, action, t); err != nil {
			rec.fixed, rec.objs, rec.groups = StatusFailed, nil, nil
			store()
			if errors.Is(err, security.ErrPermissionDenied) {
				log.Warn("command denied", "target", t.String(), "err", err)
				s.count(action, ResultDenied)
			} else {
				log.Error("authorization failed", "target", t.String(), "err", err)
				s.count(action, ResultFailed)
			}
			return rec, false
		}
	}
	if len(targets) == 0 {
		rec.executed = true
		store()
		log.Warn("command has no valid object")
		s.count(action, ResultMalformed)
		return rec, false
	}
	store()
	log.Info("command accepted", "objects", len(targets))
	return rec, true
}

// decodeCommand decodes a command message and checks its shape for v.
func (s *Server) decodeCommand(v Verb, content []byte) (*CommandParam, error) {
	if len(content) > s.cfg.MaxMessageSize {
		return nil, fmt.Errorf("%w: %d-byte command, max %d", ErrMalformed, len(content), s.cfg.MaxMessageSize)
	}
	p, err := DecodeCommandParam(content)
	if err != nil {
		return nil, err
	}
	n := len(p.Objects)
	what := "ObjParam"
	if v.sync() {
		n, what = len(p.SyncGroups), "SyncParam"
	}
	switch {
	case n == 0:
		return nil, fmt.Errorf("%w: %s command without %s", ErrMalformed, v, what)
	case n > s.cfg.MaxObjects:
		return nil, fmt.Errorf("%w: %d %ss, max %d", ErrMalformed, n, what, s.cfg.MaxObjects)
	}
	return p, nil
}

// checkObject validates one ObjParam as ndn-python-repo does (block ids in
// order; an inserted name must not overlap the repo's own namespace).
func (s *Server) checkObject(v Verb, o ObjectParam) error {
	switch {
	case !nameUsable(o.Name, false):
		return fmt.Errorf("name empty or with a component over %d bytes", tlv.NdndMaxComponentLen)
	case !nameUsable(o.RegisterPrefix, true):
		return fmt.Errorf("register prefix with a component over %d bytes", tlv.NdndMaxComponentLen)
	case o.StartBlockID != nil && o.EndBlockID != nil && *o.EndBlockID < *o.StartBlockID:
		return fmt.Errorf("end block id %d before start block id %d", *o.EndBlockID, *o.StartBlockID)
	case v == VerbInsert && (s.cfg.Prefix.IsPrefix(o.Name) || o.Name.IsPrefix(s.cfg.Prefix)):
		return errors.New("name overlaps the repo's own prefix")
	}
	for _, h := range o.ForwardingHint {
		if !nameUsable(h, false) {
			return errors.New("unusable forwarding hint")
		}
	}
	return nil
}

// execute runs an admitted command on the Backend, updating its record.
func (s *Server) execute(rec *record, log *slog.Logger) {
	ctx := s.base
	failed := false
	switch rec.verb {
	case VerbInsert:
		for i := range rec.objs {
			if rec.objs[i].status != StatusRoger {
				continue
			}
			job, err := s.b.Insert(ctx, insertSpec(rec.objs[i].param, rec.caller))
			s.mu.Lock()
			if err != nil {
				rec.objs[i].status = StatusFailed
			} else {
				rec.objs[i].status, rec.objs[i].jobID, rec.objs[i].job, rec.objs[i].hasJob = StatusInProgress, job.ID, job, true
			}
			s.mu.Unlock()
			if err != nil {
				failed = true
				log.Warn("insert failed to start", "name", rec.objs[i].param.Name.String(), "err", err)
			}
		}
	case VerbDelete:
		for i := range rec.objs {
			if rec.objs[i].status != StatusRoger {
				continue
			}
			s.setObj(rec, i, StatusInProgress, 0)
			n, err := s.delete(ctx, rec.objs[i].param)
			st := StatusCompleted
			if err != nil {
				st, failed = StatusFailed, true
				log.Warn("delete failed", "name", rec.objs[i].param.Name.String(), "err", err)
			}
			s.setObj(rec, i, st, n)
		}
	case VerbJoin, VerbLeave:
		for i := range rec.groups {
			g := rec.groups[i].param
			if rec.groups[i].status != StatusRoger {
				continue
			}
			var err error
			if rec.verb == VerbJoin {
				if g.RegisterPrefix != nil || g.DataNameDedupe || g.Reset {
					log.Debug("sync join options not supported by this repo, ignored", "group", g.SyncPrefix.String(),
						"register_prefix", g.RegisterPrefix.String(), "data_name_dedupe", g.DataNameDedupe, "reset", g.Reset)
				}
				err = s.b.JoinGroup(ctx, repo.GroupSpec{Group: g.SyncPrefix.Clone()})
			} else {
				err = s.b.LeaveGroup(ctx, g.SyncPrefix.Clone())
			}
			st := StatusCompleted
			if err != nil {
				st, failed = StatusFailed, true
				log.Warn("sync command failed", "group", g.SyncPrefix.String(), "err", err)
			}
			s.mu.Lock()
			rec.groups[i].status = st
			s.mu.Unlock()
		}
	}
	s.mu.Lock()
	rec.executed = true
	s.mu.Unlock()
	if failed {
		s.count(rec.verb.Action(), ResultFailed)
	} else {
		s.count(rec.verb.Action(), ResultOK)
	}
}

func (s *Server) setObj(rec *record, i int, st Status, n uint64) {
	s.mu.Lock()
	rec.objs[i].status, rec.objs[i].count = st, n
	s.mu.Unlock()
}

// insertSpec maps an ObjParam to the core's InsertSpec. Block ids follow
// insert.rst: only an end id means start at 0; only a start id means until
// the first segment that cannot be fetched.
func insertSpec(o ObjectParam, caller enc.Name) repo.InsertSpec {
	spec := repo.InsertSpec{Name: o.Name.Clone(), Caller: caller.Clone()}
	if o.StartBlockID != nil || o.EndBlockID != nil {
		start := uint64(0)
		if o.StartBlockID != nil {
			start = *o.StartBlockID
		}
		spec.StartSeg = &start
		if o.EndBlockID != nil {
			end := *o.EndBlockID
			spec.EndSeg = &end
		}
	}
	if len(o.ForwardingHint) > 0 {
		spec.ForwardingHint = o.ForwardingHint[0].Clone() // the core takes one; python-repo uses the first too
	}
	if o.RegisterPrefix != nil {
		spec.Register = o.RegisterPrefix.Clone()
	}
	return spec
}

// maxDeleteRange bounds the segments one open-ended ObjParam deletes one by
// one (ndn-python-repo stops at 2^30).
const maxDeleteRange = 1 << 20

// delete runs one ObjParam of a delete command (delete.rst): no block id
// deletes the single packet Name; start 0 without an end deletes everything
// under Name (all its segments, in one Backend call); otherwise segments
// Name/seg=start..end are deleted one by one, stopping at the first missing
// one.
func (s *Server) delete(ctx context.Context, o ObjectParam) (uint64, error) {
	if o.StartBlockID == nil && o.EndBlockID == nil {
		n, err := s.b.Delete(ctx, o.Name.Clone(), false)
		return uint64(max(n, 0)), err
	}
	start := uint64(0)
	if o.StartBlockID != nil {
		start = *o.StartBlockID
	}
	if start == 0 && o.EndBlockID == nil {
		n, err := s.b.Delete(ctx, o.Name.Clone(), true)
		return uint64(max(n, 0)), err
	}
	end := start + maxDeleteRange - 1
	if o.EndBlockID != nil {
		end = *o.EndBlockID
	}
	var total uint64
	for seg := start; seg <= end; seg++ {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, err := s.b.Delete(ctx, join(o.Name, enc.NewSegmentComponent(seg)), false)
		if err != nil {
			return total, err
		}
		if n <= 0 {
			break
		}
		total += uint64(n)
		if seg == ^uint64(0) {
			break
		}
	}
	return total, nil
}

// checkHandler serves "<repo>/<verb> check": RepoStatQuery in, signed
// RepoCommandRes out.
func (s *Server) checkHandler(v Verb) func(context.Context, *ndnx.Incoming) {
	cp := v.CheckPrefix(s.cfg.Prefix)
	return func(ctx context.Context, in *ndnx.Incoming) {
		if len(in.Interest.Name()) > len(cp)+1 {
			return
		}
		caller, ok := s.authenticateCheck(ctx, in)
		if !ok {
			s.count("status", ResultUnauthenticated)
			s.replyCheck(in, &CommandRes{Status: StatusNotFound})
			return
		}
		ap := in.Interest.AppParam()
		var q *StatQuery
		err := fmt.Errorf("%w: check Interest without ApplicationParameters", ErrMalformed)
		if ap != nil && ap.Length() <= maxQuerySize {
			q, err = DecodeStatQuery(ap.Join())
		} else if ap != nil {
			err = fmt.Errorf("%w: %d-byte RepoStatQuery", ErrMalformed, ap.Length())
		}
		if err != nil {
			s.log.Debug("malformed check", "err", err)
			s.count("status", ResultMalformed)
			s.replyCheck(in, &CommandRes{Status: StatusMalformed})
			return
		}
		res, result := s.status(ctx, v, string(q.RequestNo), caller)
		s.count("status", result)
		s.replyCheck(in, res)
	}
}

// authenticateCheck returns the key that signed a check Interest. With
// PublicStatus every check passes (caller nil); otherwise it must carry a
// signature by a key that chains to the trust anchors.
func (s *Server) authenticateCheck(ctx context.Context, in *ndnx.Incoming) (enc.Name, bool) {
	if s.cfg.PublicStatus {
		return nil, true
	}
	sig := in.Interest.Signature()
	if sig == nil || sig.SigType() == ndn.SignatureNone || sig.SigType() == ndn.SignatureDigestSha256 {
		s.log.Info("check Interest not signed by a key: answered NOT-FOUND (set Config.PublicStatus to answer unsigned checks, as NDNts sends)",
			"name", in.Interest.Name().String())
		return nil, false
	}
	caller, err := s.node.Verifier().VerifyInterest(ctx, in.Interest, in.SigCovered)
	if err != nil {
		s.log.Info("check Interest rejected", "err", err)
		return nil, false
	}
	return caller, true
}

// status computes the answer to a check: it refreshes insert jobs from the
// Backend (outside the lock) and authorizes the caller.
func (s *Server) status(ctx context.Context, v Verb, key string, caller enc.Name) (*CommandRes, string) {
	s.mu.Lock()
	rec := s.records.get(key, s.cfg.Now())
	var jobs []string
	var targets []enc.Name
	var owner enc.Name
	if rec != nil && rec.verb == v {
		owner = rec.caller
		for _, o := range rec.objs {
			if o.hasJob && o.job.State == repo.JobRunning {
				jobs = append(jobs, o.jobID)
			}
			targets = append(targets, o.param.Name)
		}
		for _, g := range rec.groups {
			targets = append(targets, g.param.SyncPrefix)
		}
	}
	s.mu.Unlock()
	if rec == nil || rec.verb != v {
		return &CommandRes{Status: StatusNotFound}, ResultNotFound
	}
	if caller != nil && !caller.Equal(owner) {
		if len(targets) == 0 {
			targets = append(targets, s.cfg.Prefix)
		}
		for _, t := range targets {
			if err := s.b.Authorize(ctx, caller, "status", t); err != nil {
				s.log.Info("status check denied", "caller", caller.String(), "target", t.String(), "err", err)
				return &CommandRes{Status: StatusNotFound}, ResultDenied
			}
		}
	}

	// A job the core no longer knows (evicted) counts as failed, keeping
	// the progress last seen.
	updates := make(map[string]*repo.Job, len(jobs))
	for _, id := range jobs {
		if j, ok := s.b.Job(id); ok {
			updates[id] = &j
		} else {
			updates[id] = nil
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range rec.objs {
		o := &rec.objs[i]
		j, ok := updates[o.jobID]
		switch {
		case !ok || !o.hasJob:
		case j == nil:
			o.job.State, o.job.Err = repo.JobFailed, "job no longer known to the repo"
		default:
			o.job = *j
		}
	}
	res := rec.result()
	if res.Status.Final() && rec.doneAt.IsZero() {
		rec.doneAt = s.cfg.Now()
	}
	return res, ResultOK
}

func (s *Server) replyCheck(in *ndnx.Incoming, res *CommandRes) {
	w, err := s.node.SignData(in.Interest.Name(), &ndn.DataConfig{Freshness: optional.Some(checkFreshness)}, enc.Wire{res.Encode()})
	if err == nil {
		err = in.Reply(w)
	}
	if err != nil {
		s.log.Debug("cannot answer check", "err", err)
	}
}

// Stats reports how many command records and remembered publications the
// server holds, for tests and metrics.
func (s *Server) Stats() (records, publications int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.records.len(), s.seen.len()
}
