package svs

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"time"
	"unicode"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	"github.com/named-data/ndnd/std/types/optional"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/security"
)

// Query is a query received from a member (or sent by this one).
type Query struct {
	// Name is the query's name, as given to Group.Query.
	Name string
	// Payload is its payload.
	Payload []byte
	// From is the querier's name.
	From enc.Name
	// LTime is the query's Lamport time in the group.
	LTime uint64
	// Deadline is when the querier stops collecting answers; the
	// handler's ctx ends then.
	Deadline time.Time
}

// QueryHandler answers queries. ServeQuery runs on one of the group's
// query workers (Config.QueryWorkers at once) and may block until ctx ends
// (the query's deadline, or Close). It returns the answer's payload (at
// most Config.MaxPayload bytes); an error means no answer is sent, which
// is how a member declines. It may call SendEvent, Query and Members, not
// Leave or Close.
type QueryHandler interface {
	ServeQuery(ctx context.Context, q *Query) ([]byte, error)
}

// QueryHandlerFunc adapts a function to a QueryHandler.
type QueryHandlerFunc func(ctx context.Context, q *Query) ([]byte, error)

// ServeQuery calls f(ctx, q).
func (f QueryHandlerFunc) ServeQuery(ctx context.Context, q *Query) ([]byte, error) { return f(ctx, q) }

// QueryOptions tune one Query.
type QueryOptions struct {
	// Timeout is how long answers are collected. Zero means
	// DefaultQueryTimeout. A ctx deadline that comes first ends it
	// earlier.
	Timeout time.Duration
	// MaxAnswers ends the query once this many answers came; zero means
	// no limit.
	MaxAnswers int
	// Filter, if set, restricts the query to members whose name matches
	// it: an NDN name pattern as in security.ParsePolicy targets, where
	// "*" or "<x>" is any one component and a trailing "<...>" any number
	// of components; e.g. "/example/workers/<...>". Members check it
	// before answering and the querier checks it again on each answer.
	Filter string
}

// Answer is one member's answer to a query.
type Answer struct {
	// From is the answering member's name (verified: it signed the answer).
	From enc.Name
	// Payload is the answer.
	Payload []byte
}

// memberFilter is a compiled QueryOptions.Filter; nil matches everyone.
type memberFilter struct{ p *security.Policy }

// compileFilter parses a Filter. Errors wrap ErrBadFilter.
func compileFilter(s string) (*memberFilter, error) {
	if s == "" {
		return nil, nil
	}
	if len(s) > MaxFilterLen {
		return nil, fmt.Errorf("%w: %d bytes, over %d", ErrBadFilter, len(s), MaxFilterLen)
	}
	// The filter becomes one rule of a policy text: keep it one pattern
	// on one line.
	if !strings.HasPrefix(s, "/") || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r == '#' }) {
		return nil, fmt.Errorf("%w: %q is not a name pattern", ErrBadFilter, s)
	}
	p, err := security.ParsePolicy("allow any to call " + s)
	if err != nil || len(p.Rules()) != 1 {
		return nil, fmt.Errorf("%w: %q: %v", ErrBadFilter, s, err)
	}
	return &memberFilter{p: p}, nil
}

// match reports whether member matches f.
func (f *memberFilter) match(member enc.Name) bool {
	return f == nil || f.p.Authorize(member, member) == nil
}

// queryState is a query this member sent and collects answers for.
type queryState struct {
	filter  *memberFilter
	max     int
	answers []Answer
	from    map[string]bool
	full    chan struct{} // closed when max answers came
}

// Query asks the group: every member whose name matches opts.Filter and
// that has a QueryHandler (this member included) may answer. Query
// collects answers until opts.Timeout passes, opts.MaxAnswers came, or ctx
// ends, and returns those it got, in arrival order, at most one per
// member.
//
// The answers may be incomplete: a member that is slow, unreachable, joined
// after the query was sent, declined, or whose answer was lost is simply
// missing, as in Serf. Query does not know how many members should answer.
//
// Errors: ErrBadName, ErrPayloadTooLarge, ErrBadFilter, ErrBadConfig
// (negative MaxAnswers or Timeout), ErrClosed, ErrPublish; when ctx is cancelled, or its deadline passes before the
// query's own, ctx's error with the answers so far. A ctx deadline before
// now+Timeout simply becomes the query's deadline: reaching it is no error.
// The group copies payload; the caller owns the answers.
func (g *Group) Query(ctx context.Context, name string, payload []byte, opts QueryOptions) ([]Answer, error) {
	if !validLabel([]byte(name)) {
		return nil, fmt.Errorf("%w: %q", ErrBadName, name)
	}
	if len(payload) > g.cfg.MaxPayload {
		return nil, fmt.Errorf("%w: %d bytes, MaxPayload is %d", ErrPayloadTooLarge, len(payload), g.cfg.MaxPayload)
	}
	filter, err := compileFilter(opts.Filter)
	if err != nil {
		return nil, err
	}
	if opts.MaxAnswers < 0 || opts.Timeout < 0 {
		return nil, fmt.Errorf("%w: negative MaxAnswers or Timeout", ErrBadConfig)
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = DefaultQueryTimeout
	}
	deadline := time.Now().Add(timeout)
	ctxBound := false // ctx's deadline ends the query: reaching it is no error
	if dl, ok := ctx.Deadline(); ok && !dl.After(deadline) {
		deadline, ctxBound = dl, true
	}
	var id queryID
	_, _ = rand.Read(id[:]) // crypto/rand never fails on Linux
	st := &queryState{filter: filter, max: opts.MaxAnswers, from: map[string]bool{}, full: make(chan struct{})}

	g.mu.Lock()
	if g.closed || g.leaving {
		g.mu.Unlock()
		return nil, ErrClosed
	}
	g.ltime++
	rec := record{kind: recQuery, id: id, ltime: g.ltime, label: name, payload: append([]byte{}, payload...),
		filter: opts.Filter, deadline: uint64(deadline.UnixMilli())}
	g.queries[id] = st
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		delete(g.queries, id)
		g.mu.Unlock()
	}()

	if g.cfg.QueryHandler != nil && filter.match(g.name) {
		q := &Query{Name: name, Payload: rec.payload, From: g.name, LTime: rec.ltime, Deadline: time.UnixMilli(int64(rec.deadline))}
		g.dispatchQuery(queryJob{q: q, id: id, local: true})
	}
	if err := g.publishAndWait(ctx, rec, false); err != nil {
		return g.answers(st), err
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-t.C:
	case <-st.full:
	case <-ctx.Done():
		if ctxBound && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			break
		}
		return g.answers(st), ctx.Err()
	case <-g.base.Done():
	}
	return g.answers(st), nil
}

// answers returns a copy of the answers collected for a query.
func (g *Group) answers(st *queryState) []Answer {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]Answer(nil), st.answers...)
}

// addAnswer records an answer from member to query id; it reports whether
// it was taken. Called with mu held.
func (g *Group) addAnswerLocked(id queryID, member enc.Name, payload []byte) bool {
	st := g.queries[id]
	if st == nil || (st.max > 0 && len(st.answers) >= st.max) || !st.filter.match(member) {
		return false
	}
	key := nameKey(member)
	if st.from[key] {
		return false
	}
	st.from[key] = true
	st.answers = append(st.answers, Answer{From: member.Clone(), Payload: payload})
	if st.max > 0 && len(st.answers) == st.max {
		close(st.full)
	}
	return true
}

// acceptQuery decides whether this member answers a query fetched from
// t.name's publication. Called with mu held.
func (g *Group) acceptQuery(t fetchTask, r record, now time.Time) (queryJob, bool) {
	deadline := time.UnixMilli(int64(min(r.deadline, uint64(1)<<62)))
	if g.cfg.QueryHandler == nil || !now.Before(deadline) {
		return queryJob{}, false
	}
	f, err := compileFilter(r.filter)
	if err != nil || !f.match(g.name) {
		return queryJob{}, false
	}
	g.stats.QueriesReceived++
	q := &Query{Name: r.label, Payload: r.payload, From: t.name.Clone(), LTime: r.ltime, Deadline: deadline}
	return queryJob{q: q, id: r.id}, true
}

// dispatchQuery hands a query to the workers, or drops it if they are
// all busy and the queue is full.
func (g *Group) dispatchQuery(j queryJob) {
	select {
	case g.queryQ <- j:
	default:
		g.count(func(s *Stats) { s.QueriesDropped++ })
		g.log.Debug("query dropped: workers busy", "query", j.q.Name, "from", j.q.From.String())
	}
}

// queryLoop runs a query worker.
func (g *Group) queryLoop() {
	for {
		select {
		case <-g.base.Done():
			return
		case j := <-g.queryQ:
			g.answer(j)
		}
	}
}

// answer runs the handler for j and sends its answer to the querier as a
// signed Interest (the querier acknowledges it with an empty Data, whose
// content carries nothing and is not checked).
func (g *Group) answer(j queryJob) {
	ctx, cancel := context.WithDeadline(g.base, j.q.Deadline)
	defer cancel()
	payload, err := g.cfg.QueryHandler.ServeQuery(ctx, j.q)
	if err != nil || ctx.Err() != nil {
		return
	}
	if len(payload) > g.cfg.MaxPayload {
		g.log.Warn("query answer over MaxPayload: not sent", "query", j.q.Name, "bytes", len(payload))
		return
	}
	payload = append([]byte{}, payload...)
	if j.local {
		g.mu.Lock()
		if g.addAnswerLocked(j.id, g.name, payload) {
			g.stats.AnswersSent++
		}
		g.mu.Unlock()
		return
	}
	cfg := &ndn.InterestConfig{
		Lifetime: optional.Some(min(time.Until(j.q.Deadline), g.cfg.FetchTimeout)),
		Nonce:    optional.Some(mrand.Uint32()),
	}
	i, err := g.signer.MakeInterest(answerName(j.q.From, g.cfg.Group, j.id), cfg, enc.Wire{encodeAnswer(j.id, payload)})
	if err != nil {
		g.log.Warn("sign answer", "err", err)
		return
	}
	g.count(func(s *Stats) { s.AnswersSent++ })
	if _, err := g.node.Express(ctx, i); err != nil {
		g.log.Debug("answer not acknowledged", "query", j.q.Name, "to", j.q.From.String(), "err", err)
	}
}

// takeAnswer handles an answer Interest for query id: a signed Interest
// from a member admitted by the policy and matching the query's filter.
// It runs on the node's handler goroutines.
func (g *Group) takeAnswer(ctx context.Context, in *ndnx.Incoming, id queryID) {
	reject := func(why string, err error) {
		g.count(func(s *Stats) { s.AnswersRejected++ })
		g.log.Debug("answer rejected", "why", why, "err", err)
	}
	key, err := g.node.Verifier().VerifyInterest(ctx, in.Interest, in.SigCovered)
	if err != nil {
		reject("verification", err)
		return
	}
	member := identityOf(key)
	if err := g.allowed(key, member); err != nil {
		reject("policy", err)
		return
	}
	ap := in.Interest.AppParam()
	if ap == nil {
		reject("no parameters", nil)
		return
	}
	aid, payload, err := decodeAnswer(ap.Join())
	if err == nil && aid != id {
		err = malformed("answer for another query")
	}
	if err == nil && len(payload) > g.cfg.MaxPayload {
		err = fmt.Errorf("%w: %d bytes", ErrPayloadTooLarge, len(payload))
	}
	if err != nil {
		reject("decoding", err)
		return
	}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return
	}
	g.core.heard(member, time.Now())
	ok := g.addAnswerLocked(id, member, payload)
	if ok {
		g.stats.AnswersAccepted++
	} else {
		g.stats.AnswersRejected++
	}
	g.mu.Unlock()
	if wire, err := g.signData(in.Interest.Name(), nil, 0); err == nil {
		_ = in.Reply(wire)
	}
}
