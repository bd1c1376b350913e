package rpc

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"sync"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/types/optional"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/rpc/codes"
	"github.com/ndn-invoke/ndn-invoke/rpc/internal/wire"
	"github.com/ndn-invoke/ndn-invoke/rpc/status"
	"github.com/ndn-invoke/ndn-invoke/security/session"
)

// Session-signed calls (see package security/session and docs/PROTOCOL.md):
// one Ed25519-signed handshake per (client, service) agrees on HMAC and
// sealing keys; later calls and replies are HMAC-signed, and sealed calls
// encrypt their payloads.

// sessionUnknown is the status detail of a reply to a call whose session
// the service does not hold (expired, evicted, or the service restarted):
// the client handshakes again and retries once.
const sessionUnknown = "ndn-invoke:session-unknown"

// sealedPrefix marks a sealed payload's content type: "sealed+json" is a
// JSON payload sealed with the session's keys.
const sealedPrefix = "sealed+"

// serverSessions is the service side of sessions.
type serverSessions struct {
	table    *session.Table[[16]byte]
	lifetime time.Duration

	mu      sync.Mutex
	callers map[[16]byte]enc.Name // session id → the caller key that made it
}

func newServerSessions(cfg session.TableConfig) (*serverSessions, error) {
	t, err := session.NewTable[[16]byte](cfg)
	if err != nil {
		return nil, err
	}
	return &serverSessions{table: t, lifetime: t.Config().Lifetime, callers: map[[16]byte]enc.Name{}}, nil
}

// lookup returns the live session named by a KeyLocator and its caller.
func (ss *serverSessions) lookup(loc enc.Name, now time.Time) (*session.Session, enc.Name, bool) {
	id, ok := session.IDFromName(loc)
	if !ok {
		return nil, nil, false
	}
	s, ok := ss.table.Get(id, now)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if !ok {
		delete(ss.callers, id)
		return nil, nil, false
	}
	caller, ok := ss.callers[id]
	return s, caller, ok
}

func (ss *serverSessions) put(s *session.Session, caller enc.Name, now time.Time) {
	ss.mu.Lock()
	// Bound the side map: drop callers of sessions the table let go.
	if len(ss.callers) >= 2*ss.table.Config().MaxSessions {
		for id := range ss.callers {
			if _, ok := ss.table.Get(id, now); !ok {
				delete(ss.callers, id)
			}
		}
	}
	ss.callers[s.ID()] = caller.Clone()
	ss.mu.Unlock()
	ss.table.Put(s.ID(), s, caller.String(), now)
}

// handshake answers <svc>/_session: verify the caller (Ed25519, as any
// signed call), rate-limit per identity, and reply with a ServerHello.
func (s *Server) handshake(ctx context.Context, in *ndnx.Incoming) {
	caller, err := s.node.Verifier().VerifyInterest(ctx, in.Interest, in.SigCovered)
	if err != nil {
		s.replyStatus(in, status.New(codes.Unauthenticated, err.Error()), 0)
		return
	}
	now := time.Now()
	if !s.sessions.table.AllowHandshake(caller.String(), now) {
		s.replyStatus(in, status.New(codes.ResourceExhausted, "too many session handshakes from "+caller.String()), 0)
		return
	}
	req, err := wire.DecodeRequest(in.Interest.AppParam().Join())
	if err != nil {
		s.replyStatus(in, status.Newf(codes.InvalidArgument, "bad handshake: %v", err), 0)
		return
	}
	hello, err := session.DecodeClientHello(req.Payload)
	if err != nil {
		s.replyStatus(in, status.Newf(codes.InvalidArgument, "bad handshake: %v", err), 0)
		return
	}
	keys, sh, err := session.ServerAccept(rand.Reader, hello, now, s.sessions.lifetime)
	if err != nil {
		s.replyStatus(in, status.Newf(codes.InvalidArgument, "handshake: %v", err), 0)
		return
	}
	sess, err := session.New(session.RoleServer, session.Name(s.cfg.Service, keys.SessionID), keys)
	if err != nil {
		s.replyStatus(in, status.Newf(codes.Internal, "handshake: %v", err), 0)
		return
	}
	s.sessions.put(sess, caller, now)
	s.reply(in, (&wire.Response{Payload: sh.Encode(), ContentType: "session"}).Encode(), 0)
}

// verifySessionCall authenticates an HMAC-signed call; on failure it has
// already replied.
func (s *Server) verifySessionCall(in *ndnx.Incoming) (*session.Session, enc.Name, bool) {
	sig := in.Interest.Signature()
	now := time.Now()
	if !s.cfg.Service.IsPrefix(sig.KeyName()) {
		s.replyStatus(in, status.New(codes.Unauthenticated, "session "+sig.KeyName().String()+" is not this service's"), 0)
		return nil, nil, false
	}
	sess, caller, ok := s.sessions.lookup(sig.KeyName(), now)
	if !ok {
		st := status.New(codes.Unauthenticated, "unknown or expired session "+sig.KeyName().String()).WithDetails([]byte(sessionUnknown))
		s.replyStatus(in, st, 0)
		return nil, nil, false
	}
	if err := sess.VerifyInterest(now, in.SigCovered, sig); err != nil {
		s.replyWith(in, errorContent(status.New(codes.Unauthenticated, err.Error())), 0, sess.Signer())
		return nil, nil, false
	}
	return sess, caller, true
}

func errorContent(st *status.Status) []byte {
	return (&wire.Response{Status: uint32(st.Code), Message: st.Message, Details: st.Details}).Encode()
}

// replyWith signs the reply with signer (a session's HMAC signer).
func (s *Server) replyWith(in *ndnx.Incoming, content []byte, freshness time.Duration, signer ndn.Signer) {
	d, err := spec.Spec{}.MakeData(in.Interest.Name(), &ndn.DataConfig{Freshness: optional.Some(freshness)}, enc.Wire{content}, signer)
	if errors.Is(err, session.ErrSessionClosed) {
		// The session was dropped (expired, idle or evicted) while the call
		// ran, and its keys erased: answer with the service key, which the
		// client accepts as well, rather than not at all.
		s.reply(in, content, freshness)
		return
	}
	if err != nil {
		s.log.Error("sign reply", "err", err)
		return
	}
	_ = in.Reply(d.Wire)
}

// aad is what sealing binds a payload to: the call's name without its
// parameters digest, as a Name TLV, plus the direction. The TLV is built
// here because ndnd v1.5.3's Name.Bytes writes TLV-LENGTH as a
// NonNegativeInteger, not a VAR-NUMBER, which differs for names of 253
// bytes or more.
func aad(name enc.Name, reply bool) []byte {
	if n := len(name); n > 0 && name[n-1].Typ == enc.TypeParametersSha256DigestComponent {
		name = name[:n-1]
	}
	inner := name.BytesInner()
	typ, l := enc.TypeName, enc.TLNum(len(inner))
	b := make([]byte, typ.EncodingLength()+l.EncodingLength(), typ.EncodingLength()+l.EncodingLength()+len(inner)+1)
	l.EncodeInto(b[typ.EncodeInto(b):])
	b = append(b, inner...)
	if reply {
		return append(b, 'r')
	}
	return append(b, 'q')
}

// clientSessions is the client side: one session per service.
type clientSessions struct {
	table *session.Table[string]

	mu   sync.Mutex
	busy map[string]*sync.Mutex // one handshake per service at a time
}

func newClientSessions() *clientSessions {
	t, _ := session.NewTable[string](session.TableConfig{}) // defaults validate
	return &clientSessions{table: t, busy: map[string]*sync.Mutex{}}
}

func (cs *clientSessions) lockFor(svc string) *sync.Mutex {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	m, ok := cs.busy[svc]
	if !ok {
		m = &sync.Mutex{}
		cs.busy[svc] = m
	}
	return m
}

// session returns the live session with svc, making one if needed. Only
// one handshake per service runs at a time; the others wait for it.
func (c *Client) session(ctx context.Context, svc enc.Name) (*session.Session, error) {
	key := svc.TlvStr()
	if s, ok := c.sessions.table.Get(key, time.Now()); ok {
		return s, nil
	}
	m := c.sessions.lockFor(key)
	m.Lock()
	defer m.Unlock()
	if s, ok := c.sessions.table.Get(key, time.Now()); ok {
		return s, nil
	}
	h, hello, err := session.ClientStart(rand.Reader)
	if err != nil {
		return nil, status.Newf(codes.Internal, "session: %v", err)
	}
	defer h.Erase()
	name := svc.Append(enc.NewGenericComponent(session.NameMarker))
	params := (&wire.Request{Payload: hello.Encode(), ContentType: "session"}).Encode()
	st, w := c.exchange(ctx, name, params, true)
	if st != nil {
		return nil, st
	}
	sh, err := session.DecodeServerHello(w.Payload)
	if err != nil {
		return nil, status.Newf(codes.Internal, "session: bad ServerHello from %s: %v", svc, err)
	}
	keys, err := h.Finish(sh, time.Now())
	if err != nil {
		return nil, status.Newf(codes.Unauthenticated, "session with %s: %v", svc, err)
	}
	s, err := session.New(session.RoleClient, session.Name(svc, keys.SessionID), keys)
	if err != nil {
		return nil, status.Newf(codes.Internal, "session: %v", err)
	}
	c.sessions.table.Put(key, s, svc.String(), time.Now())
	return s, nil
}

// renewSession replaces stale, a session the service no longer holds, and
// returns the live session with svc. Concurrent calls that all found stale
// unknown must not each drop the session that the first of them just made
// (it would be closed, its keys erased, under calls in flight on it), so
// stale is dropped only if it is still the current one, under the same
// lock that Put runs under.
func (c *Client) renewSession(ctx context.Context, svc enc.Name, stale *session.Session) (*session.Session, error) {
	key := svc.TlvStr()
	m := c.sessions.lockFor(key)
	m.Lock()
	if cur, ok := c.sessions.table.Get(key, time.Now()); ok && cur == stale {
		c.sessions.table.Remove(key)
	}
	m.Unlock()
	return c.session(ctx, svc)
}

// sessionExchange makes one session-signed attempt.
func (c *Client) sessionExchange(ctx context.Context, sess *session.Session, method enc.Name, params []byte) (*status.Status, *wire.Response) {
	now := time.Now()
	cfg := &ndn.InterestConfig{
		MustBeFresh: true,
		Lifetime:    optional.Some(ndnx.Lifetime(ctx)),
		Nonce:       optional.Some(randUint32()),
		SigNonce:    randBytes(8),
		SigTime:     optional.Some(time.Duration(now.UnixMilli()) * time.Millisecond),
		SigSeqNo:    optional.Some(sess.NextSeq()),
	}
	i, err := spec.Spec{}.MakeInterest(method, cfg, enc.Wire{params}, sess.Signer())
	if err != nil {
		if lost(err) {
			return lostSession(method, err), nil
		}
		return status.Newf(codes.Internal, "encode call: %v", err), nil
	}
	d, err := c.node.Express(ctx, i)
	if err != nil {
		return networkStatus(ctx, err), nil
	}
	sig := d.Data.Signature()
	if sig.SigType() == ndn.SignatureHmacWithSha256 {
		// At now, when the call was sent: a reply to a call made while the
		// session was live is valid even if the session expired since.
		if err := sess.VerifyData(now, d.SigCovered, sig); err != nil {
			if lost(err) {
				return lostSession(method, err), nil
			}
			return status.Newf(codes.Unauthenticated, "reply from %s: %v", method, err), nil
		}
	} else {
		// Only a service that lost the session answers with its key.
		key, err := c.node.VerifyData(ctx, d)
		if err == nil {
			err = c.checkSigner(key, method)
		}
		if err != nil && ctx.Err() != nil {
			return status.FromContextError(ctx.Err()), nil
		}
		if err != nil {
			return status.Newf(codes.Unauthenticated, "reply from %s: %v", method, err), nil
		}
	}
	wresp, err := wire.DecodeResponse(d.Data.Content().Join())
	if err != nil {
		return status.Newf(codes.Internal, "bad reply from %s: %v", method, err), nil
	}
	if wresp.Status != uint32(codes.OK) {
		return &status.Status{Code: codes.Code(wresp.Status), Message: wresp.Message, Details: wresp.Details}, nil
	}
	return nil, wresp
}

// lost reports whether err says our own session ended (closed or expired)
// under a call in flight: another call replaced it, or the table dropped
// it. That is local state no peer can cause, so the call handshakes again
// and retries once, as for a service that lost the session.
func lost(err error) bool {
	return errors.Is(err, session.ErrSessionClosed) || errors.Is(err, session.ErrSessionExpired)
}

func lostSession(method enc.Name, err error) *status.Status {
	return status.Newf(codes.Unauthenticated, "call to %s: %v", method, err).WithDetails([]byte(sessionUnknown))
}

func isSessionUnknown(st *status.Status) bool {
	return st != nil && st.Code == codes.Unauthenticated && string(st.Details) == sessionUnknown
}

// sealRequest encrypts the request payload for sess.
func sealRequest(sess *session.Session, method enc.Name, w *wire.Request) error {
	b, err := sess.Seal(aad(method, false), w.Payload, sess.NextSeq())
	if err != nil {
		return err
	}
	w.Payload, w.ContentType = b, sealedPrefix+w.ContentType
	return nil
}

// openPayload decrypts a sealed payload; ct is its content type.
func openPayload(sess *session.Session, name enc.Name, reply bool, ct string, payload []byte) (string, []byte, error) {
	inner, ok := strings.CutPrefix(ct, sealedPrefix)
	if !ok {
		return ct, payload, nil
	}
	if sess == nil {
		return "", nil, errors.New("sealed payload outside a session")
	}
	b, err := sess.Open(aad(name, reply), payload)
	if err != nil {
		return "", nil, err
	}
	return inner, b, nil
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func randUint32() uint32 {
	b := randBytes(4)
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
