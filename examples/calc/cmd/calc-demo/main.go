// Command calc-demo is `make demo`: it starts a real ndnd forwarder and the
// calc service, runs the ndn-invoke CLI against them the way a user would
// (printing each command, its output and exit status), and stops everything.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/ndn-invoke/ndn-invoke/examples/calc"
	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
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
		fmt.Printf("\n# %s\n$ ndn-invoke %s\n", st.why, quote(st.args))
		cmd := exec.CommandContext(ctx, cli, st.args...)
		cmd.Env = env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		fmt.Print(indent(out.String()))
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			return err
		}
		fmt.Printf("  (exit %d)\n", code)
	}
	fmt.Println("\nall done: stopping the service and the forwarder")
	return nil
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
