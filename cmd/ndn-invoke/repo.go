package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/repo"
	"github.com/ndn-invoke/ndn-invoke/rpc"
	"github.com/ndn-invoke/ndn-invoke/security"
)

const fetchHelp = `Usage: ndn-invoke fetch NAME [-o FILE] [flags]

Fetches the segmented object NAME (the newest version, through its RDR
metadata, unless NAME ends in a version) and writes its content to FILE or
stdout. Every segment's signature is checked against the trust anchors
(--anchor FILE, $NDN_INVOKE_ANCHORS, or anchor.cert in the keychain) unless
--insecure. Shows progress on stderr when stderr is a terminal.

Examples:
  ndn-invoke fetch /example/repo-data/report.pdf -o report.pdf
  ndnd put /example/blob < blob.bin & ndn-invoke fetch /example/blob --insecure > copy.bin

Flags:
`

const repoHelp = `Usage: ndn-invoke repo COMMAND [ARGS] --repo PREFIX [flags]

Commands a repo (ndn-repo) with signed Interests (the identity in the
keychain signs; the repo's policy decides):

  insert NAME [--start N --end N --hint NAME --register PREFIX] [--no-wait]
        the repo fetches NAME from its producer and stores it; waits until the
        repo holds the whole object (progress on a terminal) and prints the job
  delete NAME [--prefix]      delete a packet, or every packet under NAME
  list [PREFIX]               stored names under PREFIX (default: all)
  status JOB-ID               an insert job's state
  join GROUP [--multicast PREFIX] [--history N]
                              store every publication of an SVS v3 sync group (ndnd ALO)
  join GROUP --pubsub         keep a pub-sub group's publications (ndn-invoke pub/sub)
                              so subscribers that come later catch up from the repo
  leave GROUP                 stop storing a sync group
  stats                       packets, bytes, served prefixes, groups, jobs

Exit status as for call: 0, 64 + status code on an RPC error, 2 usage, 1 local.

Examples:
  ndn-invoke repo insert /example/blob --repo /example/repo
  ndn-invoke repo list /example --repo /example/repo --json
  ndn-invoke repo delete /example/blob --prefix --repo /example/repo

Flags:
`

// cmdFetch is `ndn-invoke fetch NAME [-o FILE]`.
func cmdFetch(args []string, out, stderr io.Writer) error {
	fs := flag.NewFlagSet("fetch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &rpcOptions{}
	fs.DurationVar(&o.timeout, "timeout", time.Hour, "give up after this `duration`")
	fs.StringVar(&o.keychain, "keychain", "", "keychain `dir://PATH`; its anchor.cert is the default trust anchor")
	fs.Var(&o.anchors, "anchor", "trust anchor certificate `FILE` (repeatable)")
	outFile := fs.String("o", "", "write the content to `FILE` (default stdout)")
	insecure := fs.Bool("insecure", false, "do not check signatures")
	window := fs.Int("window", ndnx.DefaultFetchWindow, "segments in flight")
	fs.Usage = func() { fmt.Fprint(stderr, fetchHelp); fs.PrintDefaults() }
	if err := parseRange(fs, args, 1, 1); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelpShown
		}
		return err
	}
	name, err := parseName("NAME", fs.Arg(0), 1)
	if err != nil {
		return err
	}
	ctx, cancel := commandContext(o.timeout)
	defer cancel()
	s, err := connect(ctx, o, keychainOrDefault(o), nil, *insecure, stderr)
	if err != nil {
		return err
	}
	defer s.node.Close()

	w := out
	var f *os.File
	if *outFile != "" && *outFile != "-" {
		if f, err = os.Create(*outFile); err != nil {
			return err
		}
		w = f
	}
	bar := newProgress(stderr, "fetch "+name.String())
	start := time.Now()
	obj, err := s.node.FetchObject(ctx, name, w, &ndnx.FetchOptions{Window: *window, SkipVerify: *insecure, Progress: bar.update})
	bar.done()
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			_ = os.Remove(*outFile) // no half-written file left looking whole
		}
	}
	if err != nil {
		if errors.Is(err, security.ErrUnauthenticated) && !*insecure {
			return fmt.Errorf("fetch %s: %w\n(data signed only with a digest, as `ndnd put` makes it, cannot be verified: add --insecure to accept it)", name, err)
		}
		return fmt.Errorf("fetch %s: %w", name, err)
	}
	if isTerminal(stderr) {
		el := time.Since(start)
		fmt.Fprintf(stderr, "%s: %d bytes in %d segments, %.1fs (%.1f MB/s)\n", obj.Name, obj.Bytes, obj.Last-obj.First+1, el.Seconds(), float64(obj.Bytes)/el.Seconds()/1e6)
	}
	return nil
}

// cmdRepo is `ndn-invoke repo COMMAND ...`.
func cmdRepo(args []string, out, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(out, repoHelp)
		return nil
	}
	sub := args[0]
	nargs := map[string][2]int{"insert": {1, 1}, "delete": {1, 1}, "list": {0, 1}, "status": {1, 1}, "join": {1, 1}, "leave": {1, 1}, "stats": {0, 0}}
	n, ok := nargs[sub]
	if !ok {
		return fmt.Errorf("%w: unknown repo command %q (insert, delete, list, status, join, leave, stats)", errUsage, sub)
	}
	fs := flag.NewFlagSet("repo "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &rpcOptions{}
	prefix := fs.String("repo", os.Getenv("NDN_INVOKE_REPO"), "the repo's `PREFIX` (default $NDN_INVOKE_REPO)")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "give up after this `duration` (insert: per command; waiting has no limit but Ctrl-C)")
	fs.StringVar(&o.keychain, "keychain", "", "the caller's keychain: `dir://PATH`, or a .key/.pem file")
	fs.StringVar(&o.identity, "identity", "", "`NAME` of the identity to sign with")
	fs.Var(&o.anchors, "anchor", "trust anchor certificate `FILE` (repeatable)")
	fs.BoolVar(&o.json, "json", false, "print stable JSON for scripts")
	start := fs.Int64("start", -1, "insert: first segment `N`")
	end := fs.Int64("end", -1, "insert: last segment `N`")
	hint := fs.String("hint", "", "insert: forwarding hint `NAME` to reach the producer")
	register := fs.String("register", "", "insert: `PREFIX` the repo serves the object under (default NAME)")
	noWait := fs.Bool("no-wait", false, "insert: return the job at once")
	isPrefix := fs.Bool("prefix", false, "delete: everything under NAME")
	multicast := fs.String("multicast", "", "join: multicast `PREFIX` for sync Interests")
	history := fs.Uint64("history", 0, "join: history snapshot threshold `N` (>= 10)")
	pubsubGroup := fs.Bool("pubsub", false, "join: GROUP is a pub-sub group (ndn-invoke pub/sub): keep its publications for late subscribers")
	fs.Usage = func() { fmt.Fprint(stderr, repoHelp); fs.PrintDefaults() }
	if err := parseRange(fs, args[1:], n[0], n[1]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelpShown
		}
		return err
	}
	if *prefix == "" {
		return fmt.Errorf("%w: repo %s needs --repo PREFIX (or $NDN_INVOKE_REPO)", errUsage, sub)
	}
	rname, err := parseName("--repo", *prefix, 1)
	if err != nil {
		return err
	}
	var arg enc.Name
	if fs.NArg() > 0 {
		if sub == "status" {
			arg = nil
		} else if arg, err = parseName("NAME", fs.Arg(0), 1); err != nil {
			return err
		}
	}
	kc, explicit := o.keychain, o.keychain != ""
	if !explicit {
		kc = defaultKeychain()
	}
	id, err := loadCallIdentity(o, kc, explicit)
	if err != nil {
		return err
	}
	timeout := o.timeout
	if sub == "insert" && !*noWait {
		timeout = 365 * 24 * time.Hour // waiting ends with the job or Ctrl-C
	}
	ctx, cancel := commandContext(timeout)
	defer cancel()
	s, err := connect(ctx, o, kc, id, false, stderr)
	if err != nil {
		return err
	}
	defer s.node.Close()
	c, err := repo.NewClient(s.node, rname, rpc.ClientConfig{Logger: nil})
	if err != nil {
		return err
	}
	defer c.Close()
	cmdCtx := func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, o.timeout) }
	fail := func(err error) error { return rpcExit(err, "") }

	switch sub {
	case "insert":
		req := repo.InsertRequest{Name: arg.String(), ForwardingHint: *hint, Register: *register}
		if *start >= 0 {
			v := uint64(*start)
			req.StartSeg = &v
		}
		if *end >= 0 {
			v := uint64(*end)
			req.EndSeg = &v
		}
		cctx, ccancel := cmdCtx()
		j, err := c.Insert(cctx, req)
		ccancel()
		if err != nil {
			return fail(err)
		}
		if !*noWait {
			bar := newProgress(stderr, "insert "+req.Name)
			j, err = c.Wait(ctx, j.ID, 250*time.Millisecond, func(j repo.JobStatus) { bar.update(j.Packets, j.Total) })
			bar.done()
			if err != nil {
				return fail(err)
			}
		}
		if err := printResult(out, o.json, j, fmt.Sprintf("job %s: %s, %d/%d packets, %d bytes%s", j.ID, j.State, j.Packets, j.Total, j.Bytes, errSuffix(j.Error))); err != nil {
			return err
		}
		if j.State == "failed" {
			return &exitError{code: 1, msg: "insert failed: " + j.Error}
		}
		return nil
	case "delete":
		cctx, ccancel := cmdCtx()
		defer ccancel()
		k, err := c.Delete(cctx, arg, *isPrefix)
		if err != nil {
			return fail(err)
		}
		return printResult(out, o.json, repo.DeleteResponse{Deleted: k}, fmt.Sprintf("deleted %d", k))
	case "list":
		var names []string
		for name, err := range c.List(ctx, arg, 0) {
			if err != nil {
				return fail(err)
			}
			if !o.json {
				fmt.Fprintln(out, name)
			}
			names = append(names, name)
		}
		if o.json {
			return writeJSON(out, names)
		}
		return nil
	case "status":
		cctx, ccancel := cmdCtx()
		defer ccancel()
		j, err := c.Status(cctx, fs.Arg(0))
		if err != nil {
			return fail(err)
		}
		return printResult(out, o.json, j, fmt.Sprintf("job %s: %s %s, %d/%d packets, %d bytes%s", j.ID, j.Name, j.State, j.Packets, j.Total, j.Bytes, errSuffix(j.Error)))
	case "join", "leave":
		cctx, ccancel := cmdCtx()
		defer ccancel()
		if sub == "leave" {
			err = c.Leave(cctx, arg)
		} else {
			var mp enc.Name
			if *multicast != "" {
				if mp, err = parseName("--multicast", *multicast, 1); err != nil {
					return err
				}
			}
			spec := repo.GroupSpec{Group: arg, MulticastPrefix: mp, HistorySnapshot: *history}
			if *pubsubGroup {
				spec.Kind = repo.KindPubSub
			}
			err = c.Join(cctx, spec)
		}
		if err != nil {
			return fail(err)
		}
		return printResult(out, o.json, repo.Empty{}, sub+" "+arg.String()+": ok")
	case "stats":
		cctx, ccancel := cmdCtx()
		defer ccancel()
		st, err := c.Stats(cctx)
		if err != nil {
			return fail(err)
		}
		return printResult(out, o.json, st, fmt.Sprintf("packets  %d\nbytes    %d\ncache    %d packets, %d bytes\njobs     %d running\nprefixes %s\ngroups   %s",
			st.Packets, st.Bytes, st.CachePackets, st.CacheBytes, st.JobsRunning, strings.Join(st.Prefixes, " "), strings.Join(st.Groups, " ")))
	}
	return nil
}

func errSuffix(e string) string {
	if e == "" {
		return ""
	}
	return ": " + e
}

// printResult prints v as JSON with --json, else the text line.
func printResult(out io.Writer, asJSON bool, v any, text string) error {
	if asJSON {
		return writeJSON(out, v)
	}
	_, err := fmt.Fprintln(out, text)
	return err
}

// progress draws a one-line progress bar on a terminal, and nothing
// elsewhere (so scripts and logs stay clean). Safe for concurrent use.
type progress struct {
	w     io.Writer
	label string
	on    bool

	mu    sync.Mutex
	last  time.Time
	drawn bool
}

func newProgress(w io.Writer, label string) *progress {
	return &progress{w: w, label: label, on: isTerminal(w)}
}

func (p *progress) update(done, total uint64) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond && done != total {
		return
	}
	p.last, p.drawn = now, true
	const width = 30
	if total == 0 {
		fmt.Fprintf(p.w, "\r%s: %d", p.label, done)
		return
	}
	fill := int(float64(width) * float64(done) / float64(total))
	fill = min(max(fill, 0), width)
	fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d %3.0f%%", p.label, strings.Repeat("=", fill), strings.Repeat(" ", width-fill), done, total, 100*float64(done)/float64(total))
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}
