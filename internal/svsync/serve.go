package svsync

import (
	"context"
	"errors"
	"log/slog"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/named-data/ndnd/std/ndn"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/security"
)

// UnregisterTimeout bounds each route withdrawal of an Attachment's undo.
const UnregisterTimeout = 2 * time.Second

// Attachment is what Serve attached to a node; Undo takes it away again.
type Attachment struct {
	node  *ndnx.Node
	log   *slog.Logger
	steps []func()
}

// Serve handles prefix with h on node and registers it; when id is not
// the node's own identity, it also serves id's certificate under its key
// name (verifiers fetch certificates by key name; the node serves only its
// own). A key name handled already is left alone: another member on this
// node serves it. On error the returned Attachment holds what was done so
// far, for Undo.
func Serve(ctx context.Context, node *ndnx.Node, prefix enc.Name, h ndnx.Handler, id *security.Identity, log *slog.Logger) (*Attachment, error) {
	a := &Attachment{node: node, log: log}
	if err := node.Handle(prefix, h); err != nil {
		return a, err
	}
	a.steps = append(a.steps, func() { _ = node.Unhandle(prefix) })
	if err := node.Register(ctx, prefix, nil); err != nil {
		return a, err
	}
	a.steps = append(a.steps, func() { a.unregister(prefix) })
	if nid := node.Identity(); nid != nil && nid.KeyName().Equal(id.KeyName()) {
		return a, nil
	}
	key, cert := id.KeyName(), id.CertWire()
	err := node.Handle(key, func(_ context.Context, in *ndnx.Incoming) { _ = in.Reply(enc.Wire{cert}) })
	switch {
	case errors.Is(err, ndn.ErrMultipleHandlers):
		return a, nil
	case err != nil:
		return a, err
	}
	a.steps = append(a.steps, func() { _ = node.Unhandle(key) })
	if err := node.Register(ctx, key, nil); err != nil {
		return a, err
	}
	a.steps = append(a.steps, func() { a.unregister(key) })
	return a, nil
}

// Register registers prefix on the Attachment's node, to be withdrawn by
// Undo.
func (a *Attachment) Register(ctx context.Context, prefix enc.Name) error {
	if err := a.node.Register(ctx, prefix, nil); err != nil {
		return err
	}
	a.steps = append(a.steps, func() { a.unregister(prefix) })
	return nil
}

// Undo withdraws what was attached, in reverse order. Call it once.
func (a *Attachment) Undo() {
	for i := len(a.steps) - 1; i >= 0; i-- {
		a.steps[i]()
	}
	a.steps = nil
}

func (a *Attachment) unregister(prefix enc.Name) {
	ctx, cancel := context.WithTimeout(context.Background(), UnregisterTimeout)
	defer cancel()
	if err := a.node.Unregister(ctx, prefix); err != nil && !errors.Is(err, ndnx.ErrClosed) {
		a.log.Debug("unregister", "prefix", prefix.String(), "err", err)
	}
}
