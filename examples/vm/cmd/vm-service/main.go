// Command vm-service serves /example/vm (see package vm) until
// SIGINT/SIGTERM, keeping its operation records in a repo.
//
//	vm-service --init                     # make the demo trust domain (with /example/vm and /example/repo) and say how to start the repo
//	vm-service                            # demo trust domain under ~/.ndn-invoke, records in /example/repo
//	vm-service --keychain dir://KEYS --identity /example/vm --anchor example.cert --repo /example/repo
//
// With no forwarder running it starts one under the demo directory and
// prints the NDN_CLIENT_TRANSPORT to use (the repo must use the same one).
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
	"github.com/ndn-invoke/ndn-invoke/examples/vm"
	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/repo"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "vm-service:", err)
		os.Exit(1)
	}
}

func run() error {
	demoDir := flag.String("demo-dir", calc.DefaultDomainDir(), "demo trust domain directory (used when --keychain is not given)")
	keychain := flag.String("keychain", "", "the service's keychain (dir://PATH); default: the demo domain's")
	identity := flag.String("identity", vm.Service, "the service identity in the keychain")
	anchor := flag.String("anchor", "", "trust anchor certificate file; default: the demo domain's")
	repoFlag := flag.String("repo", vm.DefaultRepo, "prefix of the repo that keeps the operation records")
	initOnly := flag.Bool("init", false, "make the demo trust domain (with /example/vm and /example/repo), print how to start the repo, and exit")
	flag.Parse()

	repoPrefix, err := repo.ParseName(*repoFlag)
	if err != nil || len(repoPrefix) == 0 {
		return fmt.Errorf("bad --repo %q", *repoFlag)
	}
	var domain calc.Domain
	if *keychain == "" {
		if domain, err = vm.EnsureDomain(*demoDir); err != nil {
			return err
		}
		*keychain = "dir://" + domain.ServiceKeys
		if *anchor == "" {
			*anchor = domain.Anchor
		}
	}
	if *initOnly {
		if domain.Dir == "" {
			return errors.New("--init makes the demo domain: do not pass --keychain with it")
		}
		fmt.Printf("demo trust domain in %s: anchor /example (%s), identities %s and %s in %s\n"+
			"start the repo that keeps the records with\n"+
			"  bin/ndn-repo --prefix %s --data-dir /tmp/vm-repo --keychain %s --anchor %s\n",
			domain.Dir, domain.Anchor, vm.Service, vm.DefaultRepo, *keychain, vm.DefaultRepo, *keychain, domain.Anchor)
		return nil
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
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	s, err := vm.Start(start, node, repoPrefix, vm.Config{Logger: logger})
	if errors.Is(err, vm.ErrNoRepo) {
		return fmt.Errorf("%w\n(start it first, on the same forwarder: bin/ndn-repo --prefix %s --keychain ... --anchor ...; `vm-service --init` prints the line for the demo domain)", err, repoPrefix)
	}
	if err != nil {
		return err
	}
	fmt.Printf("serving %s as %s; operation records in repo %s (Ctrl-C to stop)\n", vm.Service, node.Identity().CertName(), repoPrefix)
	<-ctx.Done()
	sctx, scancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer scancel()
	return s.Shutdown(sctx)
}
