package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/repo"
	"github.com/ndn-invoke/ndn-invoke/rpc"
)

const opHelp = `Usage: ndn-invoke op get|wait|cancel|delete NAME [flags]
       ndn-invoke op list SERVICE|PREFIX [--repo PREFIX] [--running|--done] [flags]

Long-running operations (methods that answer with an operation, see
ndn-invoke call --wait). Their records are kept in a repo, so get, wait and
list work while the service is down.

  get NAME      print the operation's newest record as JSON
  wait NAME     wait until it is done (progress on a terminal); print its result,
                or exit 64 + its error's code with "Code: message" on stderr
  cancel NAME   ask the service to cancel it (only its caller may)
  delete NAME   ask the service to delete a finished operation's records (only
                its caller may; cancel a running one first)
  list SERVICE  list the service's operations, newest first, a page at a time;
                the service's description names its ops prefix and repo, or give
                the ops prefix (like /example/vm/_ops) and --repo

Examples:
  ndn-invoke call /example/vm/CreateVM '{"name":"web","seconds":30}'
  ndn-invoke op wait /example/vm/_ops/6f1c...
  ndn-invoke op get /example/vm/_ops/6f1c... --json | jq .progress
  ndn-invoke op list /example/vm --running
  ndn-invoke op list /example/vm/_ops --repo /example/repo --all --json

Flags:
`

// cmdOp is `ndn-invoke op get|wait|cancel|delete|list NAME`.
func cmdOp(args []string, out, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(out, opHelp)
		return nil
	}
	sub := args[0]
	switch sub {
	case "get", "wait", "cancel", "delete", "list":
	default:
		return fmt.Errorf("%w: unknown op command %q (get, wait, cancel, delete, list)", errUsage, sub)
	}
	fs := flag.NewFlagSet("op "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &rpcOptions{}
	def := 10 * time.Second
	switch sub {
	case "wait":
		def = 24 * time.Hour
	case "list":
		def = time.Minute
	}
	fs.DurationVar(&o.timeout, "timeout", def, "give up after this `duration`")
	fs.StringVar(&o.keychain, "keychain", "", "keychain `dir://PATH` (cancel and delete sign with its identity)")
	fs.StringVar(&o.identity, "identity", "", "`NAME` of the identity to sign with")
	fs.Var(&o.anchors, "anchor", "trust anchor certificate `FILE` (repeatable)")
	fs.BoolVar(&o.json, "json", false, "print stable JSON for scripts")
	var l opListFlags
	if sub == "list" {
		fs.StringVar(&l.repo, "repo", "", "list: the repo `PREFIX` keeping the operations (default: from the service's description)")
		fs.BoolVar(&l.running, "running", false, "list: only operations not done")
		fs.BoolVar(&l.done, "done", false, "list: only finished operations")
		fs.IntVar(&l.limit, "limit", 50, "list: operations per `page` (at most 1000)")
		fs.StringVar(&l.token, "page-token", "", "list: continue after the page that printed this `token`")
		fs.BoolVar(&l.all, "all", false, "list: every page")
	}
	fs.Usage = func() { fmt.Fprint(stderr, opHelp); fs.PrintDefaults() }
	if err := parseRange(fs, args[1:], 1, 1); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelpShown
		}
		return err
	}
	minLen := 2
	if sub == "list" {
		minLen = 1
		if l.running && l.done {
			return fmt.Errorf("%w: op list: --running and --done exclude each other", errUsage)
		}
		if l.limit <= 0 || l.limit > 1000 {
			return fmt.Errorf("%w: op list: --limit must be 1 to 1000", errUsage)
		}
	}
	name, err := parseName("NAME", fs.Arg(0), minLen)
	if err != nil {
		return err
	}
	kc, explicit := o.keychain, o.keychain != ""
	if !explicit {
		kc = defaultKeychain()
	}
	id, err := loadCallIdentity(o, kc, explicit)
	if err != nil && (sub == "cancel" || sub == "delete" || sub == "list") {
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
	case "delete":
		if err := s.client.DeleteOp(ctx, name); err != nil {
			return rpcExit(err, "")
		}
		fmt.Fprintln(out, "deleted", name)
		return nil
	case "list":
		return listOps(ctx, s, name, &l, o.json, out, stderr)
	}
	return waitOp(ctx, s, name.String(), o.json, out, stderr)
}

// opListFlags are `op list`'s own flags.
type opListFlags struct {
	repo          string
	running, done bool
	limit         int
	token         string
	all           bool
}

// listOps prints the operations of a service (name) or under an ops
// prefix (name ending in _ops, or any name with --repo).
func listOps(ctx context.Context, s *rpcSession, name enc.Name, l *opListFlags, asJSON bool, out, stderr io.Writer) error {
	prefix, repoName := name, enc.Name(nil)
	if l.repo != "" {
		var err error
		if repoName, err = parseName("--repo", l.repo, 1); err != nil {
			return err
		}
	}
	if !name[len(name)-1].IsGeneric("_ops") {
		// A service: its description says where its operations are.
		dctx, cancel := context.WithTimeout(ctx, 4*time.Second)
		d, err := s.client.Describe(dctx, name)
		cancel()
		switch {
		case err == nil && d.Operations == nil:
			return fmt.Errorf("%s keeps no long-running operations", name)
		case err == nil:
			if prefix, err = parseName("operations prefix", d.Operations.Prefix, 1); err != nil {
				return err
			}
			if repoName == nil && d.Operations.Repo != "" {
				if repoName, err = parseName("operations repo", d.Operations.Repo, 1); err != nil {
					return err
				}
			}
		case repoName == nil:
			return rpcExit(err, "give the operations prefix (like "+name.String()+"/_ops) and --repo to list while the service is down")
		default: // the service is down: its default prefix, in the given repo
			prefix = name.Append(enc.NewGenericComponent("_ops"))
		}
	}
	if repoName == nil {
		return fmt.Errorf("%w: op list %s: which repo keeps the operations? give --repo PREFIX", errUsage, name)
	}
	rc, err := repo.NewClient(s.node, repoName, rpc.ClientConfig{})
	if err != nil {
		return err
	}
	defer rc.Close()
	opts := &rpc.ListOpsOptions{PageSize: l.limit, PageToken: l.token}
	switch {
	case l.running:
		opts.Filter = rpc.OpsRunning
	case l.done:
		opts.Filter = rpc.OpsDone
	}
	all := &rpc.OpsPage{Operations: []*rpc.OpStatus{}}
	for {
		p, err := s.client.ListOps(ctx, repo.NewOpStore(rc, prefix), prefix, opts)
		if err != nil {
			return rpcExit(err, "")
		}
		all.Operations = append(all.Operations, p.Operations...)
		all.Unreadable += p.Unreadable
		all.NextPageToken = p.NextPageToken
		if !l.all || p.NextPageToken == "" {
			break
		}
		opts.PageToken = p.NextPageToken
	}
	if asJSON {
		return writeJSON(out, all)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tMETHOD\tSTATE\tPROGRESS\tUPDATED")
	for _, op := range all.Operations {
		state := "running"
		if op.Done {
			state = "done"
			if op.Error != nil {
				state = op.Error.Code
			}
		}
		method := op.Method[strings.LastIndex(op.Method, "/")+1:]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d%%\t%s\n", op.Name, method, state, op.Progress, op.Updated.Local().Format(time.DateTime))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(all.Operations) == 0 {
		fmt.Fprintln(stderr, "no operations")
	}
	if all.Unreadable > 0 {
		fmt.Fprintf(stderr, "%d operation(s) skipped: their record could not be read or did not verify\n", all.Unreadable)
	}
	if all.NextPageToken != "" {
		fmt.Fprintf(stderr, "more: add --page-token %s (or --all)\n", all.NextPageToken)
	}
	return nil
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
