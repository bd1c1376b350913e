package ndn

import (
	"context"
	"errors"
)

// ConnectOrStart connects as Connect does; if no forwarder answers at the
// transport, it starts an embedded forwarder as fw describes and connects to
// that instead. The returned Forwarder is nil when an existing forwarder was
// used; otherwise the caller stops it after closing the Node. This is how
// ndn-repo and the demo need nothing installed but Go.
func ConnectOrStart(ctx context.Context, cfg Config, fw ForwarderConfig) (*Node, *Forwarder, error) {
	n, err := Connect(ctx, cfg)
	if err == nil || !errors.Is(err, ErrNoForwarder) {
		return n, nil, err
	}
	f, err := StartForwarder(ctx, fw)
	if err != nil {
		return nil, nil, err
	}
	cfg.Transport = f.Transport()
	n, err = Connect(ctx, cfg)
	if err != nil {
		f.Stop()
		return nil, nil, err
	}
	return n, f, nil
}
