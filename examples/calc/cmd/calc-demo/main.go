// Command calc-demo is `make demo`: it starts a real ndnd forwarder and the
// calc service, runs the ndn-invoke CLI against them the way a user would
// (printing each command, its output and exit status), then does the same
// with a long-running operation kept in a repo (the vm service, which dies
// and resumes mid-way) and a server stream (the logs service, tail -f), and
// stops everything.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/examples/calc"
	"github.com/ndn-invoke/ndn-invoke/examples/logs"
	"github.com/ndn-invoke/ndn-invoke/examples/vm"
	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/repo"
	"github.com/ndn-invoke/ndn-invoke/repo/store"
	"github.com/ndn-invoke/ndn-invoke/rpc"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run() error {
	cli, err := filepath.Abs(filepath.Join("bin", "ndn-invoke"))
	if err != nil {
		return err
	}
	if _, err := os.Stat(cli); err != nil {
		return fmt.Errorf("%s not found: run `make build` first (make demo does)", cli)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	domain, err := calc.EnsureDomain(calc.DefaultDomainDir())
	if err != nil {
		return err
	}
	fwDir, err := os.MkdirTemp("", "ndn-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(fwDir)
	fw, err := ndnx.StartForwarder(ctx, ndnx.ForwarderConfig{Dir: fwDir})
	if err != nil {
		return err
	}
	defer fw.Stop()

	node, err := ndnx.Connect(ctx, ndnx.Config{Transport: fw.Transport(), Keychain: "dir://" + domain.ServiceKeys,
		IdentityName: calc.Service, AnchorFiles: []string{domain.Anchor}})
	if err != nil {
		return err
	}
	defer node.Close()
	s, err := calc.Start(ctx, node)
	if err != nil {
		return err
	}
	defer s.Close()

	fmt.Printf("forwarder  ndnd pid %d, %s\n", fw.Pid(), fw.Transport())
	fmt.Printf("service    %s, signed by %s\n", calc.Service, node.Identity().CertName())
	fmt.Printf("trust      demo domain in %s (anchor %s; you are alice, /example/users/alice)\n", domain.Dir, domain.Anchor)
	fmt.Printf("policy     %s\n", strings.ReplaceAll(strings.TrimSpace(calc.PolicyText), "\n", "\n           "))
	fmt.Printf("\nexport NDN_CLIENT_TRANSPORT=%s\n", fw.Transport())

	env := append(os.Environ(), "NDN_CLIENT_TRANSPORT="+fw.Transport(),
		"NDN_INVOKE_KEYCHAIN=dir://"+domain.UserKeys, "NDN_INVOKE_ANCHORS="+domain.Anchor)
	mallory := "dir://" + domain.MalloryKeys
	steps := []struct {
		why  string
		args []string
	}{
		{"what does the service offer?", []string{"describe", calc.Service}},
		{"a signed call, verified both ways", []string{"call", calc.Service + "/add", `{"a":2,"b":3}`}},
		{"an error from the handler (exit 64+3)", []string{"call", calc.Service + "/div", `{"a":1,"b":0}`}},
		{"a public call: no identity needed, cached by the network", []string{"call", "--public", calc.Service + "/square", `{"x":12}`}},
		{"mallory is certified, but the policy does not let guests add (exit 64+7)", []string{"call", "--keychain", mallory, calc.Service + "/add", `{"a":1,"b":1}`}},
		{"the deadline travels with the call (exit 64+4)", []string{"call", "--timeout", "300ms", calc.Service + "/slow", `{"ms":2000}`}},
		{"is it up?", []string{"health", calc.Service}},
	}
	for _, st := range steps {
		if _, err := runCLI(ctx, cli, env, st.why, st.args...); err != nil {
			return err
		}
	}
	if err := operationsAndStreams(ctx, cli, env, fwDir, fw.Transport()); err != nil {
		return err
	}
	fmt.Println("\nall done: stopping the services, the repo and the forwarder")
	return nil
}

// runCLI runs ndn-invoke with args, printing why, the command, its output
// and its exit status; it returns the output.
func runCLI(ctx context.Context, cli string, env []string, why string, args ...string) (string, error) {
	return runCLIUntil(ctx, cli, env, nil, why, args...)
}

// runCLIUntil is runCLI that interrupts the command (SIGINT, as Ctrl-C)
// when stop is closed.
func runCLIUntil(ctx context.Context, cli string, env []string, stop <-chan struct{}, why string, args ...string) (string, error) {
	fmt.Printf("\n# %s\n$ ndn-invoke %s\n", why, quote(args))
	cmd := exec.CommandContext(ctx, cli, args...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	exited := make(chan struct{})
	interrupted := make(chan struct{})
	go func() { // owned: ends when the command exits, awaited below
		defer close(interrupted)
		select {
		case <-stop: // a nil stop never fires
			_ = cmd.Process.Signal(os.Interrupt)
		case <-exited:
		}
	}()
	err := cmd.Wait()
	close(exited)
	<-interrupted
	fmt.Print(indent(pretty(out.String())))
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		return "", err
	}
	fmt.Printf("  (exit %d)\n", code)
	return out.String(), nil
}

// operationsAndStreams is the second half of the demo: a repo keeping
// operation records, the vm service creating a VM through a crash and a
// restart, and the logs service streaming a file's lines.
func operationsAndStreams(ctx context.Context, cli string, env []string, dir, transport string) error {
	quiet := slog.New(slog.DiscardHandler) // the demo tells what happens itself
	if _, err := vm.EnsureDomain(calc.DefaultDomainDir()); err != nil {
		return err
	}
	domain, err := logs.EnsureDomain(calc.DefaultDomainDir())
	if err != nil {
		return err
	}
	connect := func(identity string) (*ndnx.Node, error) {
		return ndnx.Connect(ctx, ndnx.Config{Transport: transport, Keychain: "dir://" + domain.ServiceKeys,
			IdentityName: identity, AnchorFiles: []string{domain.Anchor}, Logger: quiet})
	}

	// The repo, in this process: it keeps the operation records.
	repoNode, err := connect(vm.DefaultRepo)
	if err != nil {
		return err
	}
	defer repoNode.Close()
	st, err := store.Open(filepath.Join(dir, "repo"), store.DefaultConfig())
	if err != nil {
		return err
	}
	defer st.Close()
	repoName, _ := enc.NameFromStr(vm.DefaultRepo)
	r, err := repo.New(repoNode, st, repo.Config{Prefix: repoName, Logger: quiet})
	if err != nil {
		return err
	}
	if err := r.Start(ctx); err != nil {
		return err
	}
	defer r.Close()

	// The vm service; startVM runs it again after the "crash".
	var vmNode *ndnx.Node
	var vmSrv *vm.Server
	startVM := func() error {
		var err error
		if vmNode, err = connect(vm.Service); err != nil {
			return err
		}
		vmSrv, err = vm.Start(ctx, vmNode, repoName, vm.Config{Logger: quiet})
		return err
	}
	if err := startVM(); err != nil {
		return err
	}
	defer func() {
		vmSrv.Close()
		vmNode.Close()
	}()

	// The logs service, on a directory with one log file.
	logDir := filepath.Join(dir, "logs")
	logFile := filepath.Join(logDir, "app.log")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(logFile, []byte("boot\nlisten :8080\nGET /index.html 200\nGET /missing 404\n"), 0o644); err != nil {
		return err
	}
	logsNode, err := connect(logs.Service)
	if err != nil {
		return err
	}
	defer logsNode.Close()
	ls, err := logs.Start(ctx, logsNode, logs.Config{Dir: logDir, Logger: quiet})
	if err != nil {
		return err
	}
	defer ls.Close()

	fmt.Printf("\nrepo       %s, keeping operation records (in this process)\n", vm.DefaultRepo)
	fmt.Printf("service    %s: CreateVM is long-running and resumable\n", vm.Service)
	fmt.Printf("service    %s: Tail streams %s\n", logs.Service, logFile)

	out, err := runCLI(ctx, cli, env, "a long-running call answers at once with an operation, whose records the repo keeps",
		"call", vm.Service+"/"+vm.Method, `{"name":"web","seconds":4}`)
	if err != nil {
		return err
	}
	var op rpc.OpStatus
	if err := json.Unmarshal([]byte(out), &op); err != nil || op.Name == "" {
		return fmt.Errorf("CreateVM did not answer with an operation: %s", out)
	}
	opName, _ := enc.NameFromStr(op.Name)

	// Let it get somewhere, then cut the service off as kill -9 would: no
	// shutdown, no final record.
	// (A reader of its own: a forwarder sends no Interest back to the face
	// it came from, so the repo's node cannot fetch from the repo.)
	readerNode, err := ndnx.Connect(ctx, ndnx.Config{Transport: transport, AnchorFiles: []string{domain.Anchor}, Logger: quiet})
	if err != nil {
		return err
	}
	defer readerNode.Close()
	reader, err := rpc.NewClient(readerNode, rpc.ClientConfig{Logger: quiet})
	if err != nil {
		return err
	}
	defer reader.Close()
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for {
		st, err := reader.GetOp(wctx, opName)
		if err == nil && st.Progress >= 25 {
			break
		}
		if err := sleep(wctx, 100*time.Millisecond); err != nil {
			return fmt.Errorf("the operation shows no progress: %w", err)
		}
	}
	vmNode.Close()
	vmSrv.Close()
	fmt.Printf("\n# the vm service dies mid-way, without a word (its connection cut, as kill -9 would)\n")
	if _, err := runCLI(ctx, cli, env, "the service is down; the repo still answers for the operation",
		"op", "get", op.Name); err != nil {
		return err
	}
	if err := startVM(); err != nil {
		return err
	}
	fmt.Printf("\n# the vm service starts again: it finds the unfinished operation in the repo and resumes it\n")
	if _, err := runCLI(ctx, cli, env, "wait for it (a progress bar on a terminal); the result",
		"op", "wait", op.Name); err != nil {
		return err
	}
	if _, err := runCLI(ctx, cli, env, `the final record: done, progress 100, "resumed": 1`,
		"op", "get", op.Name); err != nil {
		return err
	}
	if _, err := runCLI(ctx, cli, env, "a bad request fails the call itself, before any operation starts (exit 64+3)",
		"call", "--wait", vm.Service+"/"+vm.Method, `{"name":"db","seconds":0}`); err != nil {
		return err
	}

	if _, err := runCLI(ctx, cli, env, "a server stream: the last lines of a log, as JSON lines",
		"call", logs.Service+"/Tail", `{"file":"app.log","lines":3}`); err != nil {
		return err
	}
	// tail -f: lines are appended while the CLI follows; then Ctrl-C.
	appended := make(chan error, 1)
	stop := make(chan struct{})
	go func() { // owned: awaited below
		err := appendLines(ctx, logFile, []string{"GET /api/vm 202", "GET /api/vm/web 200", "shutting down"})
		if err == nil {
			err = sleep(ctx, time.Second)
		}
		close(stop)
		appended <- err
	}()
	_, err = runCLIUntil(ctx, cli, env, stop, "follow it, as tail -f, while lines are appended; then Ctrl-C (exit 64+1)",
		"call", logs.Service+"/Tail", `{"file":"app.log","lines":1,"follow":true}`)
	if aerr := <-appended; err == nil {
		err = aerr
	}
	if err != nil {
		return err
	}
	if _, err := runCLI(ctx, cli, env, "nothing outside the served directory (exit 64+3)",
		"call", logs.Service+"/Tail", `{"file":"../../etc/passwd"}`); err != nil {
		return err
	}
	return nil
}

// appendLines appends lines to path, one every 600ms, the first after 600ms.
func appendLines(ctx context.Context, path string, lines []string) error {
	for _, l := range lines {
		if err := sleep(ctx, 600*time.Millisecond); err != nil {
			return err
		}
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(f, l)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pretty indents output that is one long JSON object, so a record reads
// well; anything else stays as it is.
func pretty(s string) string {
	t := strings.TrimSpace(s)
	if len(t) < 100 || !strings.HasPrefix(t, "{") || strings.Contains(t, "\n") {
		return s
	}
	var buf bytes.Buffer
	if json.Indent(&buf, []byte(t), "", "  ") != nil {
		return s
	}
	return buf.String() + "\n"
}

func quote(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, `{}" `) {
			a = "'" + a + "'"
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}

func indent(s string) string {
	if s == "" {
		return ""
	}
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ") + "\n"
}
