package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/ndn-invoke/ndn-invoke/svs"
)

const groupHelp = `Usage: ndn-invoke members GROUP [flags]
       ndn-invoke event GROUP NAME PAYLOAD|- [flags]
       ndn-invoke query GROUP NAME PAYLOAD|- [flags]

Groups on State Vector Sync (package svs). Each command joins GROUP as a
member under your identity (every packet signed; members only accept those
certified under their anchor), does its work, and leaves (the others see it
"left"). NDN has no push: members fetch what a member publishes, so event
keeps serving its event for --linger before it leaves.

  members GROUP             listen for --wait, then list the members heard,
                            with status (alive, suspect, failed, left)
  event GROUP NAME PAYLOAD  send an event to every member
  query GROUP NAME PAYLOAD  ask the members; print the answers that arrive
                            within --timeout (answers may be incomplete)

Examples:
  ndn-invoke members /example/chat
  ndn-invoke event /example/deploy restart '{"service":"web"}'
  ndn-invoke query /example/workers load '' --filter '/example/workers/<...>' --json

Flags:
`

// cmdGroup is `ndn-invoke members|event|query GROUP ...`.
func cmdGroup(cmd string, args []string, stdin io.Reader, out, stderr io.Writer) error {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &rpcOptions{}
	fs.StringVar(&o.keychain, "keychain", "", "keychain `dir://PATH` (its identity joins the group)")
	fs.StringVar(&o.identity, "identity", "", "`NAME` of the identity to join as")
	fs.Var(&o.anchors, "anchor", "trust anchor certificate `FILE` (repeatable)")
	fs.BoolVar(&o.json, "json", false, "print stable JSON (one object per line) for scripts")
	wait := fs.Duration("wait", 3*time.Second, "members: listen this `long` before listing")
	linger := fs.Duration("linger", 3*time.Second, "event: keep serving the event this `long` so members fetch it")
	fs.DurationVar(&o.timeout, "timeout", 2*time.Second, "query: collect answers this `long`")
	maxAnswers := fs.Int("max", 0, "query: stop after `N` answers (0: no limit)")
	filter := fs.String("filter", "", "query: only members matching this name `pattern`, like /example/workers/<...>")
	fs.Usage = func() { fmt.Fprint(stderr, groupHelp); fs.PrintDefaults() }
	nargs := 3
	if cmd == "members" {
		nargs = 1
	}
	if err := parseRange(fs, args, nargs, nargs); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelpShown
		}
		return err
	}
	if *wait <= 0 || *linger < 0 || o.timeout <= 0 || *maxAnswers < 0 {
		return fmt.Errorf("%w: %s: durations must be positive and --max not negative", errUsage, cmd)
	}
	group, err := parseName("GROUP", fs.Arg(0), 1)
	if err != nil {
		return err
	}
	var payload []byte
	if cmd != "members" {
		if payload, err = readArg(fs.Arg(2), stdin); err != nil {
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
	ctx, cancel := commandContext(*wait + *linger + o.timeout + 30*time.Second)
	defer cancel()
	s, err := connect(ctx, o, kc, id, false, stderr)
	if err != nil {
		return err
	}
	defer s.node.Close()
	cfg := svs.Config{Group: group, Node: s.node, Logger: slog.New(slog.DiscardHandler)}
	g, err := svs.Join(ctx, cfg)
	if err != nil {
		return err
	}
	defer g.Close()
	leave := func() {
		lctx, c := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
		defer c()
		_ = g.Leave(lctx)
	}

	switch cmd {
	case "members":
		if err := sleepCtx(ctx, *wait); err != nil {
			return err
		}
		ms := g.Members()
		leave()
		return printMembers(out, ms, g, o.json)
	case "event":
		if err := g.SendEvent(ctx, fs.Arg(1), payload); err != nil {
			return err
		}
		if err := sleepCtx(ctx, *linger); err != nil {
			return err
		}
		leave()
		if !o.json {
			fmt.Fprintf(stderr, "event %q sent to %s\n", fs.Arg(1), group)
		}
		return nil
	}
	answers, err := g.Query(ctx, fs.Arg(1), payload, svs.QueryOptions{Timeout: o.timeout, MaxAnswers: *maxAnswers, Filter: *filter})
	leave()
	if err != nil {
		return err
	}
	for _, a := range answers {
		if o.json {
			if err := writeJSONLine(out, map[string]any{"from": a.From.String(), "payload": string(a.Payload)}); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(out, "%s\t%s\n", a.From, a.Payload)
	}
	if len(answers) == 0 && !o.json {
		fmt.Fprintf(stderr, "no answers within %s\n", o.timeout)
	}
	return nil
}

// printMembers prints the members as a table or JSON lines.
func printMembers(out io.Writer, ms []svs.Member, g *svs.Group, asJSON bool) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	if !asJSON {
		fmt.Fprintln(tw, "MEMBER\tSTATUS\tLAST HEARD")
	}
	for _, m := range ms {
		self := m.Name.Equal(g.Name())
		if asJSON {
			if err := writeJSONLine(out, map[string]any{"name": m.Name.String(), "status": m.Status.String(),
				"last_heard": m.LastHeard, "self": self}); err != nil {
				return err
			}
			continue
		}
		heard := fmt.Sprintf("%.1fs ago", time.Since(m.LastHeard).Seconds())
		if self {
			heard = "(this command)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", m.Name, m.Status, heard)
	}
	return tw.Flush()
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// maxGroupPayload bounds a payload read from stdin (svs.MaxPayloadLimit;
// the group's own limit, smaller by default, is checked when sending).
const maxGroupPayload = svs.MaxPayloadLimit

// readArg returns arg's bytes, or stdin's when arg is "-".
func readArg(arg string, stdin io.Reader) ([]byte, error) {
	if arg != "-" {
		return []byte(arg), nil
	}
	b, err := io.ReadAll(io.LimitReader(stdin, maxGroupPayload+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxGroupPayload {
		return nil, fmt.Errorf("payload from stdin is over %d bytes", maxGroupPayload)
	}
	return b, nil
}

// writeJSONLine writes v as one line of JSON.
func writeJSONLine(out io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = out.Write(append(b, '\n'))
	return err
}
