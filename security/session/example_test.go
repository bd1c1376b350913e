package session_test

import (
	"errors"
	"fmt"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	spec "github.com/named-data/ndnd/std/ndn/spec_2022"
	"github.com/named-data/ndnd/std/types/optional"

	"github.com/ndn-invoke/ndn-invoke/security"
	"github.com/ndn-invoke/ndn-invoke/security/session"
)

// Example runs a handshake, then one sealed, session-signed call and its
// replay. The Ed25519 signatures of the two hello packets and the network
// are left out: here the hellos just travel as bytes.
func Example() {
	now := time.Unix(1_700_000_000, 0)
	svc, _ := enc.NameFromStr("/example/kv")
	table, _ := session.NewTable[[16]byte](session.TableConfig{})

	// Client: start, and send the ClientHello.
	hs, ch, _ := session.ClientStart(nil)
	helloWire := ch.Encode()

	// Service: rate-limit, accept, keep the session.
	hello, _ := session.DecodeClientHello(helloWire)
	if !table.AllowHandshake("/example/users/alice", now) {
		return
	}
	sk, sh, _ := session.ServerAccept(nil, hello, now, table.Config().Lifetime)
	srv, _ := session.New(session.RoleServer, session.Name(svc, sh.SessionID), sk)
	table.Put(sh.SessionID, srv, "/example/users/alice", now)

	// Client: finish, then make a sealed call.
	reply, _ := session.DecodeServerHello(sh.Encode())
	ck, _ := hs.Finish(reply, now)
	cli, _ := session.New(session.RoleClient, session.Name(svc, reply.SessionID), ck)

	callName := svc.Append(enc.NewGenericComponent("put"))
	seq := cli.NextSeq()
	sealed, _ := cli.Seal(callName.Bytes(), []byte("x=1"), seq)
	cfg := &ndn.InterestConfig{
		SigNonce: []byte{1, 2, 3, 4, 5, 6, 7, 8},
		SigTime:  optional.Some(time.Duration(now.UnixMilli()) * time.Millisecond),
		SigSeqNo: optional.Some(seq),
	}
	pkt, _ := spec.Spec{}.MakeInterest(callName.Clone(), cfg, enc.Wire{sealed}, cli.Signer())
	wire := pkt.Wire.Join()

	// Service: find the session from the KeyLocator, verify, open.
	for range 2 { // the second time is a replay
		in, covered, _ := spec.Spec{}.ReadInterest(enc.NewBufferView(wire))
		id, _ := session.IDFromName(in.Signature().KeyName())
		s, ok := table.Get(id, now)
		if !ok {
			return
		}
		if err := s.VerifyInterest(now, covered, in.Signature()); err != nil {
			fmt.Println("rejected:", errors.Is(err, security.ErrReplay))
			continue
		}
		name := in.Name()[:len(in.Name())-1] // without the digest
		args, err := s.Open(name.Bytes(), in.AppParam().Join())
		fmt.Printf("call %s: %s %v\n", name, args, err)
	}
	table.Close() // erases every session's keys
	// Output:
	// call /example/kv/put: x=1 <nil>
	// rejected: true
}
