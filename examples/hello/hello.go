// Package hello is the smallest secure NDN service: every request is a signed
// Interest that the service verifies (certificate chain to its trust anchor,
// signature, replay window) and authorizes (name-pattern policy) before it
// answers with a signed greeting, which the caller verifies in turn.
//
// It shows the foundation at work (ndn.Node, security.Verifier,
// security.Policy) before the rpc layer wraps the same steps; `make demo`
// runs it on an embedded forwarder (cmd/hello).
package hello

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"
	"github.com/named-data/ndnd/std/types/optional"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/security"
)

// ErrRejected is matched by the error Call returns when the service refused
// the request; the error text carries the service's reason.
var ErrRejected = errors.New("hello: rejected")

// Serve answers signed Interests under prefix on node: "hello, <caller
// identity>" when policy allows the caller to reach the Interest name, else a
// signed refusal that names the reason. It registers the prefix and returns
// once the forwarder routes it. node needs an identity and trust anchors.
func Serve(ctx context.Context, node *ndnx.Node, prefix enc.Name, policy *security.Policy) error {
	if node.Identity() == nil || node.Verifier() == nil {
		return errors.New("hello: the service node needs an identity and trust anchors")
	}
	err := node.Handle(prefix, func(ctx context.Context, in *ndnx.Incoming) {
		reply := answer(ctx, node, policy, in)
		// Replies are not cacheable: each is for one signed request.
		w, err := node.SignData(in.Interest.Name(), &ndn.DataConfig{Freshness: optional.Some(time.Duration(0))}, enc.Wire{[]byte(reply)})
		if err == nil {
			_ = in.Reply(w)
		}
	})
	if err != nil {
		return err
	}
	return node.Register(ctx, prefix, nil)
}

func answer(ctx context.Context, node *ndnx.Node, policy *security.Policy, in *ndnx.Incoming) string {
	key, err := node.Verifier().VerifyInterest(ctx, in.Interest, in.SigCovered)
	if err != nil {
		return "error: " + err.Error()
	}
	// The target is the call's name without its parameters digest.
	target := in.Interest.Name()
	if n := len(target); n > 0 && target[n-1].Typ == enc.TypeParametersSha256DigestComponent {
		target = target[:n-1]
	}
	if err := policy.Authorize(key, target); err != nil {
		return "error: " + err.Error()
	}
	return "hello, " + identityOf(key).String()
}

func identityOf(key enc.Name) enc.Name {
	for i := len(key) - 1; i >= 0; i-- {
		if key[i].Typ == enc.TypeGenericNameComponent && string(key[i].Val) == "KEY" {
			return key[:i]
		}
	}
	return key
}

// Call sends a signed request for name and returns the greeting after
// verifying the reply's signature chain. A refusal is an error matching
// ErrRejected.
func Call(ctx context.Context, node *ndnx.Node, name enc.Name) (string, error) {
	i, err := node.MakeInterest(ctx, name, &ndn.InterestConfig{MustBeFresh: true}, enc.Wire{[]byte("hi")}, true)
	if err != nil {
		return "", err
	}
	return Send(ctx, node, i)
}

// Send expresses an already encoded request and checks the reply as Call
// does. It lets the demo resend a captured Interest (a replay).
func Send(ctx context.Context, node *ndnx.Node, i *ndn.EncodedInterest) (string, error) {
	d, err := node.Express(ctx, i)
	if err != nil {
		return "", err
	}
	if _, err := node.VerifyData(ctx, d); err != nil {
		return "", fmt.Errorf("hello: reply: %w", err)
	}
	text := string(d.Data.Content().Join())
	if reason, ok := strings.CutPrefix(text, "error: "); ok {
		return "", fmt.Errorf("%w: %s", ErrRejected, reason)
	}
	return text, nil
}
