// Command logs-service serves /example/logs (see package logs): the log
// files of one directory, tail -f style, until SIGINT/SIGTERM.
//
//	logs-service --dir /var/log/myapp     # demo trust domain under ~/.ndn-invoke, created on first use
//	logs-service --dir DIR --keychain dir://KEYS --identity /example/logs --anchor example.cert
//
// With no forwarder running it starts one under the demo directory and
// prints the NDN_CLIENT_TRANSPORT to use.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/ndn-invoke/ndn-invoke/examples/calc"
	"github.com/ndn-invoke/ndn-invoke/examples/logs"
	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "logs-service:", err)
		os.Exit(1)
	}
}

func run() error {
	dir := flag.String("dir", "", "the directory whose log files are served (required); nothing outside it is")
	demoDir := flag.String("demo-dir", calc.DefaultDomainDir(), "demo trust domain directory (used when --keychain is not given)")
	keychain := flag.String("keychain", "", "the service's keychain (dir://PATH); default: the demo domain's")
	identity := flag.String("identity", logs.Service, "the service identity in the keychain")
	anchor := flag.String("anchor", "", "trust anchor certificate file; default: the demo domain's")
	flag.Parse()

	if *dir == "" {
		return errors.New("--dir is required: the directory of the log files to serve")
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		return fmt.Errorf("--dir %s is not a directory", abs)
	}
	if *keychain == "" {
		d, err := logs.EnsureDomain(*demoDir)
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
	s, err := logs.Start(start, node, logs.Config{Dir: abs})
	if err != nil {
		return err
	}
	fmt.Printf("serving %s (files in %s) as %s (Ctrl-C to stop)\n", logs.Service, abs, node.Identity().CertName())
	<-ctx.Done()
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	return s.Shutdown(sctx)
}
