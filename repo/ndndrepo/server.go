package ndndrepo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/named-data/ndnd/repo/tlv"
	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/repo"
	"github.com/ndn-invoke/ndn-invoke/security"
)

// Status codes in RepoCmdRes.Status. ndnd's repo uses 200, 400 and 500;
// the others follow HTTP's meaning for what ndnd's repo does not check.
const (
	// StatusOK: the command was executed (or, for a replay inside the
	// dedup window, had been).
	StatusOK uint64 = 200
	// StatusBadRequest: the Interest carries no command Data, the Data is
	// unsigned or malformed, or the command is unknown, ambiguous or
	// invalid (sync protocol other than SVS v3, no group, history
	// threshold below 10, an empty BlobFetch).
	StatusBadRequest uint64 = 400
	// StatusUnauthorized: the command Data's signature does not
	// authenticate anyone: DigestSha256 (what ndnd's ExpressCommand makes
	// with a NullSchema or nil trust config), a bad signature, or a
	// certificate that does not chain to the repo's trust anchors (HTTP
	// 401: who sent it is unknown).
	StatusUnauthorized uint64 = 401
	// StatusForbidden: the signer is known but Backend.Authorize denies
	// it the verb on the target (HTTP 403).
	StatusForbidden uint64 = 403
	// StatusNotFound: a SyncLeave for a group the repo is not in.
	StatusNotFound uint64 = 404
	// StatusInternalError: the backend failed; the message does not say
	// why (the repo's log does).
	StatusInternalError uint64 = 500
	// StatusUnavailable: the repo is shutting down.
	StatusUnavailable uint64 = 503
)

// Results passed to Backend.Count, by outcome.
const (
	resultOK              = "ok"
	resultBadRequest      = "bad_request"
	resultUnauthenticated = "unauthenticated"
	resultDenied          = "denied"
	resultNotFound        = "not_found"
	resultError           = "error"
	resultUnavailable     = "unavailable"
	resultDuplicate       = "duplicate"
)

// protocolName is the protocol label of every Backend.Count call.
const protocolName = "ndnd"

// Backend is what the protocol needs from the repo core (*repo.Repo
// satisfies it). Its methods are called from the node's handler
// goroutines (Server) or the sync group's goroutine (PublicationHook),
// concurrently, never while this package holds a lock; they may block
// until ctx is done.
type Backend interface {
	// Insert starts an asynchronous job fetching and storing an object.
	Insert(ctx context.Context, spec repo.InsertSpec) (repo.Job, error)
	// PutData stores one Data packet as given (wire is its whole TLV,
	// owned by the callee from then on) and returns once it is durable;
	// register is the prefix to serve it under.
	PutData(ctx context.Context, wire []byte, register enc.Name) error
	// JoinGroup joins an SVS group; joining a group already joined
	// succeeds.
	JoinGroup(ctx context.Context, g repo.GroupSpec) error
	// LeaveGroup leaves a group; repo.ErrNotJoined if it was not joined.
	LeaveGroup(ctx context.Context, group enc.Name) error
	// Authorize decides whether the key caller may do verb ("insert",
	// "join", "leave") on target; a denial matches
	// security.ErrPermissionDenied.
	Authorize(ctx context.Context, caller enc.Name, verb string, target enc.Name) error
	// Count records one command outcome for metrics, for example
	// ("ndnd", "join", "ok"). The protocol is always "ndnd"; verbs are
	// "join", "leave", "blobfetch" and "unknown" (undecodable); results
	// are "ok", "bad_request", "unauthenticated", "denied", "not_found",
	// "error", "unavailable" and "duplicate" (answered from the dedup
	// memory). It must not block.
	Count(protocol, verb, result string)
}

// Server answers ndnd repo commands at <Prefix>/32=cmd on a node. It is
// safe for concurrent use; Close stops it.
type Server struct {
	node    *ndnx.Node
	b       Backend
	cfg     Config
	log     *slog.Logger
	cmdName enc.Name
	dedup   *dedup

	// base is cancelled by Close; every command's work derives from it.
	base   context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup // commands in progress; Add only under mu while !closed
}

// CommandName is where a repo named prefix takes commands:
// <prefix>/32=cmd, as ndnd's clients address it (alo-history:
// repoName.Append(enc.NewKeywordComponent("cmd"))). The result is a fresh
// name; prefix is not modified.
func CommandName(prefix enc.Name) enc.Name {
	return prefix.Clone().Append(enc.NewKeywordComponent("cmd"))
}

// Serve starts answering commands at CommandName(cfg.Prefix) on node and
// registers that prefix with the forwarder (the repo core registers
// cfg.Prefix itself; the narrower route is harmless and makes the server
// reachable on its own). It returns once the route is confirmed.
//
// The node must have trust anchors (ErrNoTrust otherwise): every command
// is verified against them. It should have an identity, which signs the
// replies (without one they carry DigestSha256). Errors: ErrInvalidConfig,
// ErrNoTrust, the node's Handle error (a second server on the same
// prefix), ndn.ErrRegister, ndn.ErrTimeout, ndn.ErrClosed or ctx's error.
func Serve(ctx context.Context, node *ndnx.Node, b Backend, cfg Config) (*Server, error) {
	if node == nil || b == nil {
		return nil, fmt.Errorf("%w: nil node or Backend", ErrInvalidConfig)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if node.Verifier() == nil {
		return nil, ErrNoTrust
	}
	cfg = cfg.withDefaults()
	s := &Server{
		node:    node,
		b:       b,
		cfg:     cfg,
		log:     cfg.Logger,
		cmdName: CommandName(cfg.Prefix),
		dedup:   newDedup(cfg.DedupWindow, cfg.DedupEntries),
	}
	s.base, s.cancel = context.WithCancel(context.Background())
	if err := node.Handle(s.cmdName, s.serve); err != nil {
		s.cancel()
		return nil, err
	}
	if err := node.Register(ctx, s.cmdName, nil); err != nil {
		_ = node.Unhandle(s.cmdName)
		s.cancel()
		return nil, err
	}
	s.log.Info("serving ndnd repo commands", "prefix", s.cmdName.String())
	return s, nil
}

// Close stops answering commands: it detaches the handler, withdraws the
// route (waiting at most a few seconds for the forwarder), cancels the
// commands in progress and waits for them to return. Idempotent and safe
// for concurrent use; it always returns nil (a failure to withdraw the
// route is logged).
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()

	s.cancel()
	_ = s.node.Unhandle(s.cmdName)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	if err := s.node.Unregister(ctx, s.cmdName); err != nil && !errors.Is(err, ndnx.ErrClosed) {
		s.log.Warn("withdrawing the command route failed", "prefix", s.cmdName.String(), "err", err)
	}
	cancel()
	s.wg.Wait()
	return nil
}

// enter counts a command in, unless the server is closed.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

// serve is the node Handler of <Prefix>/32=cmd. It runs on a node worker
// goroutine; ctx ends at the Interest's deadline.
func (s *Server) serve(ctx context.Context, in *ndnx.Incoming) {
	if !s.enter() {
		return
	}
	defer s.wg.Done()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.base, cancel)
	defer stop()

	verb, res, dup := s.handle(ctx, in)
	if res == nil {
		return // gave up: the Interest expired or the server closed
	}
	result := resultOf(res.Status)
	if dup {
		result = resultDuplicate
	}
	s.b.Count(protocolName, verb, result)
	s.reply(in, res)
}

// handle decodes, authenticates, deduplicates and executes one command.
// A nil result means no reply is to be sent; dup means the result is
// that of an earlier copy of the same command Data.
func (s *Server) handle(ctx context.Context, in *ndnx.Incoming) (verb string, res *tlv.RepoCmdRes, dup bool) {
	params := in.Interest.AppParam().Join()
	req, status, msg := decodeRequest(params, s.cfg.MaxBlobPackets)
	if req == nil {
		return verbUnknown, response(status, msg), false
	}
	verb = req.op.verb
	if verb == "" {
		verb = verbUnknown
	}
	if status != StatusOK {
		return verb, response(status, msg), false
	}

	caller, err := s.node.VerifyData(ctx, &ndnx.Data{Data: req.data, Raw: enc.Wire{req.raw}, SigCovered: req.covered})
	if err != nil {
		if ctx.Err() != nil {
			return verb, nil, false
		}
		s.log.Info("command refused: not authenticated", "verb", verb, "key", keyName(req.data), "err", err)
		return verb, response(StatusUnauthorized, "command Data does not verify: "+err.Error()), false
	}

	e, first := s.dedup.begin(req.digest, s.cfg.Now())
	if !first {
		select {
		case <-e.done:
		case <-ctx.Done():
			return verb, nil, false
		}
		r := e.res
		s.log.Debug("command seen before: answered from memory", "verb", verb, "caller", caller.String())
		return verb, &r, true
	}
	opCtx, opCancel := context.WithTimeout(s.base, s.cfg.OpTimeout)
	r := s.execute(opCtx, caller, req.op)
	opCancel()
	s.dedup.finish(e, *r, r.Status == StatusOK)
	return verb, r, false
}

// execute authorizes o for caller and runs it on the backend.
func (s *Server) execute(ctx context.Context, caller enc.Name, o op) *tlv.RepoCmdRes {
	switch o.verb {
	case verbJoin:
		g := o.group
		if err := s.b.Authorize(ctx, caller, verbJoin, g.Group); err != nil {
			return s.fail(err, caller, o.verb, g.Group)
		}
		if err := s.b.JoinGroup(ctx, g); err != nil {
			return s.fail(err, caller, o.verb, g.Group)
		}
		s.log.Info("joined group", "group", g.Group.String(), "caller", caller.String())
		return response(StatusOK, "joined "+g.Group.String())
	case verbLeave:
		if err := s.b.Authorize(ctx, caller, verbLeave, o.leave); err != nil {
			return s.fail(err, caller, o.verb, o.leave)
		}
		if err := s.b.LeaveGroup(ctx, o.leave); err != nil {
			return s.fail(err, caller, o.verb, o.leave)
		}
		s.log.Info("left group", "group", o.leave.String(), "caller", caller.String())
		return response(StatusOK, "left "+o.leave.String())
	}
	if o.name != nil {
		if err := s.b.Authorize(ctx, caller, verbInsert, o.name); err != nil {
			return s.fail(err, caller, verbInsert, o.name)
		}
		job, err := s.b.Insert(ctx, repo.InsertSpec{Name: o.name, Caller: caller.Clone()})
		if err != nil {
			return s.fail(err, caller, verbInsert, o.name)
		}
		s.log.Info("BlobFetch: insert started", "name", o.name.String(), "job", job.ID, "caller", caller.String())
		return response(StatusOK, "job "+job.ID)
	}
	// Every packet must be allowed before any is stored.
	for _, p := range o.packets {
		if err := s.b.Authorize(ctx, caller, verbInsert, p.name); err != nil {
			return s.fail(err, caller, verbInsert, p.name)
		}
	}
	for _, p := range o.packets {
		if err := s.b.PutData(ctx, p.wire, objectPrefix(p.name)); err != nil {
			return s.fail(err, caller, verbInsert, p.name)
		}
	}
	s.log.Info("BlobFetch: stored packets", "count", len(o.packets), "caller", caller.String())
	return response(StatusOK, fmt.Sprintf("stored %d packets", len(o.packets)))
}

// fail maps a backend error to a status, logging it.
func (s *Server) fail(err error, caller enc.Name, verb string, target enc.Name) *tlv.RepoCmdRes {
	attrs := []any{"verb", verb, "target", target.String(), "caller", caller.String(), "err", err}
	switch {
	case errors.Is(err, security.ErrPermissionDenied):
		s.log.Info("command denied", attrs...)
		return response(StatusForbidden, fmt.Sprintf("%s may not %s %s", caller, verb, target))
	case errors.Is(err, repo.ErrBadRequest), errors.Is(err, security.ErrUnauthenticated):
		// The core refuses what it was given (with Config.VerifyData, a
		// packet that does not verify): the request is at fault, not
		// who sent it, which was established already.
		s.log.Info("command refused by the repo", attrs...)
		return response(StatusBadRequest, err.Error())
	case errors.Is(err, repo.ErrNotJoined):
		return response(StatusNotFound, err.Error())
	case errors.Is(err, repo.ErrClosed), s.base.Err() != nil:
		return response(StatusUnavailable, "repo is shutting down")
	}
	s.log.Error("command failed", attrs...)
	return response(StatusInternalError, "internal error")
}

// reply sends res as a Data named as the Interest, signed by the node.
func (s *Server) reply(in *ndnx.Incoming, res *tlv.RepoCmdRes) {
	wire, err := s.node.SignData(in.Interest.Name(), &ndn.DataConfig{}, res.Encode())
	if err != nil {
		s.log.Error("encoding the reply failed", "name", in.Interest.Name().String(), "err", err)
		return
	}
	if err := in.Reply(wire); err != nil {
		s.log.Debug("reply not sent", "name", in.Interest.Name().String(), "err", err)
	}
}

func response(status uint64, msg string) *tlv.RepoCmdRes {
	return &tlv.RepoCmdRes{Status: status, Message: msg}
}

// resultOf is the Backend.Count result of a reply status.
func resultOf(status uint64) string {
	switch status {
	case StatusOK:
		return resultOK
	case StatusBadRequest:
		return resultBadRequest
	case StatusUnauthorized:
		return resultUnauthenticated
	case StatusForbidden:
		return resultDenied
	case StatusNotFound:
		return resultNotFound
	case StatusUnavailable:
		return resultUnavailable
	}
	return resultError
}

// keyName is the KeyLocator name of d, for logs; nil if it has none.
func keyName(d ndn.Data) string {
	if k := d.Signature().KeyName(); k != nil {
		return k.String()
	}
	return ""
}
