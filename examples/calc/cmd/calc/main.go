// Command calc serves /example/calc (see package calc) until SIGINT/SIGTERM.
//
//	calc                                  # demo trust domain under ~/.ndn-invoke, created on first use
//	calc --keychain dir://KEYS --identity /example/calc --anchor example.cert
//
// With no forwarder running it starts one under the demo directory and
// prints the NDN_CLIENT_TRANSPORT to use.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/ndn-invoke/ndn-invoke/examples/calc"
	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "calc:", err)
		os.Exit(1)
	}
}

func run() error {
	demoDir := flag.String("demo-dir", calc.DefaultDomainDir(), "demo trust domain directory (used when --keychain is not given)")
	keychain := flag.String("keychain", "", "the service's keychain (dir://PATH); default: the demo domain's")
	identity := flag.String("identity", calc.Service, "the service identity in the keychain")
	anchor := flag.String("anchor", "", "trust anchor certificate file; default: the demo domain's")
	flag.Parse()

	if *keychain == "" {
		d, err := calc.EnsureDomain(*demoDir)
		if err != nil {
			return err
		}
		*keychain = "dir://" + d.ServiceKeys
		if *anchor == "" {
			*anchor = d.Anchor
		}
	}
	if *anchor == "" {
		return fmt.Errorf("--anchor is required with --keychain")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	start, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	node, fw, err := ndnx.ConnectOrStart(start,
		ndnx.Config{Keychain: *keychain, IdentityName: *identity, AnchorFiles: []string{*anchor}},
		ndnx.ForwarderConfig{Dir: filepath.Join(*demoDir, "fw")})
	if err != nil {
		return err
	}
	defer func() {
		node.Close()
		if fw != nil {
			fw.Stop()
		}
	}()
	if fw != nil {
		fmt.Printf("no forwarder was running: started one; clients use\n  export NDN_CLIENT_TRANSPORT=%s\n", fw.Transport())
	}
	s, err := calc.Start(start, node)
	if err != nil {
		return err
	}
	fmt.Printf("serving %s as %s (Ctrl-C to stop)\n", calc.Service, node.Identity().CertName())
	<-ctx.Done()
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	return s.Shutdown(sctx)
}
