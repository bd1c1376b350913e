// Command coupons runs the two sides of package coupons: a registration
// front end that announces new users, and a coupon service that grants
// each one a coupon, also for users registered while it was down (a repo
// archives the group).
//
//	coupons --init                    # demo trust domain under ~/.ndn-invoke; prints how to start the repo
//	coupons serve                     # the coupon service, state in ~/.ndn-invoke/coupons (Ctrl-C stops it)
//	coupons register alice bob        # announce users, linger until someone fetched them, exit
//
// Both need a forwarder (NDN_CLIENT_TRANSPORT, see `ndn-invoke forwarder`)
// and use the demo domain's identities (/example/web, /example/coupons)
// unless --keychain, --identity and --anchor say otherwise.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/ndn-invoke/ndn-invoke/examples/calc"
	"github.com/ndn-invoke/ndn-invoke/examples/coupons"
	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
)

const usage = `usage:
  coupons --init
  coupons [flags] serve
  coupons [flags] register USER [USER ...]`

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "coupons:", err)
		os.Exit(1)
	}
}

func run() error {
	demoDir := flag.String("demo-dir", calc.DefaultDomainDir(), "demo trust domain directory (used when --keychain is not given)")
	initOnly := flag.Bool("init", false, "make the demo trust domain (if needed), print how to start the repo, and exit")
	keychain := flag.String("keychain", "", "keychain (dir://PATH); default: the demo domain's service keychain")
	identity := flag.String("identity", "", "identity in the keychain; default /example/web (register) or /example/coupons (serve)")
	anchor := flag.String("anchor", "", "trust anchor certificate file; default: the demo domain's")
	dir := flag.String("dir", "", "serve: state directory; default DEMO-DIR/coupons")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), usage)
		flag.PrintDefaults()
	}
	flag.Parse()

	if *keychain == "" {
		d, err := coupons.EnsureDomain(*demoDir)
		if err != nil {
			return err
		}
		*keychain = "dir://" + d.ServiceKeys
		if *anchor == "" {
			*anchor = d.Anchor
		}
		if *initOnly {
			fmt.Printf("demo trust domain in %s: anchor /example (%s), identities %s, %s and %s in %s\n"+
				"start a repo that archives the group, on the same forwarder:\n"+
				"  bin/ndn-repo --prefix %s --data-dir /tmp/coupons-repo --keychain %s --anchor %s\n"+
				"  bin/ndn-invoke repo join %s --pubsub --repo %s --keychain %s --identity %s --anchor %s\n",
				d.Dir, d.Anchor, coupons.WebIdentity, coupons.ServiceIdentity, coupons.RepoIdentity, *keychain,
				coupons.RepoIdentity, *keychain, d.Anchor,
				coupons.DefaultGroup(), coupons.RepoIdentity, *keychain, coupons.RepoIdentity, d.Anchor)
			return nil
		}
	} else if *initOnly {
		return errors.New("--init makes the demo domain: do not pass --keychain with it")
	}
	if *anchor == "" {
		return errors.New("--anchor is required with --keychain")
	}
	if flag.NArg() == 0 {
		return errors.New(usage)
	}
	cmd, args := flag.Arg(0), flag.Args()[1:]
	switch {
	case cmd == "serve" && len(args) == 0:
		if *identity == "" {
			*identity = coupons.ServiceIdentity
		}
	case cmd == "register" && len(args) > 0:
		if *identity == "" {
			*identity = coupons.WebIdentity
		}
	default:
		return errors.New(usage)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	node, err := ndnx.Connect(start, ndnx.Config{Keychain: *keychain, IdentityName: *identity, AnchorFiles: []string{*anchor}})
	if err != nil {
		return err
	}
	defer node.Close()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg := coupons.Config{Node: node, Logger: logger}

	if cmd == "register" {
		reg, err := coupons.NewRegistration(start, cfg)
		if err != nil {
			return err
		}
		defer reg.Close()
		for _, u := range args {
			if err := reg.Register(ctx, u); err != nil {
				return err
			}
			fmt.Printf("registered %s\n", u)
		}
		// Linger until the repo (or the coupon service) fetched them.
		fctx, fcancel := context.WithTimeout(ctx, 10*time.Second)
		defer fcancel()
		if err := reg.Flush(fctx); err != nil {
			return fmt.Errorf("nobody fetched the registrations (is the repo in %s, or the service up?): %w", coupons.DefaultGroup(), err)
		}
		return nil
	}

	if *dir == "" {
		*dir = filepath.Join(*demoDir, "coupons")
	}
	svc, err := coupons.StartService(start, coupons.ServiceConfig{Config: cfg, Dir: *dir,
		OnGrant: func(g coupons.Grant) { fmt.Printf("granted %s to %s\n", g.Code, g.User) }})
	if err != nil {
		return err
	}
	defer svc.Close()
	fmt.Fprintf(os.Stderr, "granting coupons for %s as %s, state in %s (Ctrl-C to stop)\n",
		coupons.DefaultTopic(), node.Identity().Name(), *dir)
	<-ctx.Done()
	return nil
}
