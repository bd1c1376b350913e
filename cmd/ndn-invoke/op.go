package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/ndn-invoke/ndn-invoke/rpc"
)

const opHelp = `Usage: ndn-invoke op get|wait|cancel NAME [flags]

Long-running operations (methods that answer with an operation, see
ndn-invoke call --wait). Their records are kept in a repo, so get and wait
work while the service is down.

  get NAME      print the operation's newest record as JSON
  wait NAME     wait until it is done (progress on a terminal); print its result,
                or exit 64 + its error's code with "Code: message" on stderr
  cancel NAME   ask the service to cancel it (only its caller may)

Examples:
  ndn-invoke call /example/vm/CreateVM '{"name":"web","seconds":30}'
  ndn-invoke op wait /example/vm/_ops/6f1c...
  ndn-invoke op get /example/vm/_ops/6f1c... --json | jq .progress

Flags:
`

// cmdOp is `ndn-invoke op get|wait|cancel NAME`.
func cmdOp(args []string, out, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(out, opHelp)
		return nil
	}
	sub := args[0]
	switch sub {
	case "get", "wait", "cancel":
	default:
		return fmt.Errorf("%w: unknown op command %q (get, wait, cancel)", errUsage, sub)
	}
	fs := flag.NewFlagSet("op "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &rpcOptions{}
	def := 10 * time.Second
	if sub == "wait" {
		def = 24 * time.Hour
	}
	fs.DurationVar(&o.timeout, "timeout", def, "give up after this `duration`")
	fs.StringVar(&o.keychain, "keychain", "", "keychain `dir://PATH` (cancel signs with its identity)")
	fs.StringVar(&o.identity, "identity", "", "`NAME` of the identity to sign with")
	fs.Var(&o.anchors, "anchor", "trust anchor certificate `FILE` (repeatable)")
	fs.BoolVar(&o.json, "json", false, "print stable JSON for scripts")
	fs.Usage = func() { fmt.Fprint(stderr, opHelp); fs.PrintDefaults() }
	if err := parseRange(fs, args[1:], 1, 1); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelpShown
		}
		return err
	}
	name, err := parseName("NAME", fs.Arg(0), 2)
	if err != nil {
		return err
	}
	kc, explicit := o.keychain, o.keychain != ""
	if !explicit {
		kc = defaultKeychain()
	}
	id, err := loadCallIdentity(o, kc, explicit)
	if err != nil && sub == "cancel" {
		return err
	}
	ctx, cancel := commandContext(o.timeout)
	defer cancel()
	s, err := connect(ctx, o, kc, id, false, stderr)
	if err != nil {
		return err
	}
	defer s.node.Close()
	switch sub {
	case "get":
		st, err := s.client.GetOp(ctx, name)
		if err != nil {
			return rpcExit(err, "")
		}
		return writeJSON(out, st)
	case "cancel":
		if err := s.client.CancelOp(ctx, name); err != nil {
			return rpcExit(err, "")
		}
		fmt.Fprintln(out, "cancel requested")
		return nil
	}
	return waitOp(ctx, s, name.String(), o.json, out, stderr)
}

// waitOp waits for the operation, drawing progress on a terminal, and
// prints its result (or the whole record with --json). The operation's
// error exits 64 + its code.
func waitOp(ctx context.Context, s *rpcSession, opName string, asJSON bool, out, stderr io.Writer) error {
	name, err := parseName("operation", opName, 2)
	if err != nil {
		return err
	}
	bar := newProgress(stderr, "operation")
	st, err := s.client.WaitOp(ctx, name, func(st *rpc.OpStatus) { bar.update(uint64(st.Progress), 100) })
	bar.done()
	if err != nil {
		return rpcExit(err, "the operation continues; `ndn-invoke op wait "+opName+"` to wait again")
	}
	if asJSON {
		if err := writeJSON(out, st); err != nil {
			return err
		}
	} else if st.Err() == nil {
		if err := writeJSON(out, st.Result); err != nil {
			return err
		}
	}
	if err := st.Err(); err != nil {
		return rpcExit(err, "")
	}
	return nil
}
