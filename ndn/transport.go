package ndn

import (
	"fmt"
	"net"
	"net/url"

	"github.com/named-data/ndnd/std/engine"
)

// ResolveTransport returns the transport URI a Node uses when
// Config.Transport is empty: $NDN_CLIENT_TRANSPORT, then client.conf, then
// the platform default (see Config.Transport).
func ResolveTransport() string {
	// ndnd's GetClientConfig only reads files and the environment; unlike
	// engine.NewDefaultFace it never exits the process.
	return engine.GetClientConfig().TransportUri
}

// parseTransport splits a transport URI into a net.Dial network and address.
func parseTransport(uri string) (network, addr string, err error) {
	u, err := url.Parse(uri)
	if err != nil {
		return "", "", fmt.Errorf("%w %q: %w", ErrBadTransport, uri, err)
	}
	switch u.Scheme {
	case "unix":
		p := u.Path
		if p == "" {
			p = u.Opaque
		}
		if p == "" {
			return "", "", fmt.Errorf("%w %q: want unix:///path/to/nfd.sock", ErrBadTransport, uri)
		}
		return "unix", p, nil
	case "tcp", "tcp4", "tcp6":
		host := u.Host
		if host == "" {
			return "", "", fmt.Errorf("%w %q: want tcp://host:port", ErrBadTransport, uri)
		}
		if _, _, err := net.SplitHostPort(host); err != nil {
			host = net.JoinHostPort(u.Hostname(), "6363")
		}
		return u.Scheme, host, nil
	default:
		return "", "", fmt.Errorf("%w %q: scheme must be unix:// or tcp://", ErrBadTransport, uri)
	}
}
