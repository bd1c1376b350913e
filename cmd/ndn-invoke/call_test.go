package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"
	"github.com/stretchr/testify/require"

	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/rpc"
	"github.com/ndn-invoke/ndn-invoke/rpc/codes"
	"github.com/ndn-invoke/ndn-invoke/rpc/status"
	"github.com/ndn-invoke/ndn-invoke/security"
)

func TestMain(m *testing.M) { ndntest.Main(m) }

type divReq struct{ A, B int }
type divResp struct{ Q int }

// service starts an rpc server whose identity is its name (so the client's
// default signer rule accepts its replies) and returns that name.
func service(t *testing.T) (enc.Name, *rpc.Server) {
	t.Helper()
	id := ndntest.Identity(t, "svc")
	node := ndntest.Connect(t, ndnx.Config{Identity: id})
	s, err := rpc.NewServer(node, rpc.ServerConfig{Service: id.Name(), Version: "1.2"})
	require.NoError(t, err)
	require.NoError(t, rpc.Unary(s.Mux, "div", func(_ context.Context, r divReq) (divResp, error) {
		if r.B == 0 {
			return divResp{}, status.Error(codes.InvalidArgument, "division by zero")
		}
		return divResp{r.A / r.B}, nil
	}, rpc.MethodOptions{Idempotent: true, Description: "integer division"}))
	require.NoError(t, rpc.Unary(s.Mux, "ping", func(_ context.Context, _ struct{}) (string, error) {
		return "pong", nil
	}, rpc.MethodOptions{Public: true, CacheTTL: time.Second, Idempotent: true}))
	nobody, err := security.ParsePolicy("allow /nobody/<...> to call /<...>")
	require.NoError(t, err)
	require.NoError(t, rpc.Unary(s.Mux, "secret", func(_ context.Context, _ struct{}) (string, error) {
		return "s3cr3t", nil
	}, rpc.MethodOptions{Policy: nobody}))
	require.NoError(t, s.Handle("meta", rpc.HandlerFunc(func(_ context.Context, req *rpc.Request) (*rpc.Response, error) {
		b, _ := json.Marshal(map[string]string{"tenant": req.Metadata.Get("tenant")})
		return &rpc.Response{Payload: b, Metadata: rpc.Metadata{"served-by": {"svc"}}}, nil
	}), rpc.MethodOptions{Idempotent: true}))
	require.NoError(t, s.Handle("reverse", rpc.HandlerFunc(func(_ context.Context, req *rpc.Request) (*rpc.Response, error) {
		b := bytes.Clone(req.Payload)
		for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
			b[i], b[j] = b[j], b[i]
		}
		return &rpc.Response{Payload: b, ContentType: req.ContentType}, nil
	}), rpc.MethodOptions{Idempotent: true}))
	require.NoError(t, rpc.ServerStream(s.Mux, "count", func(ctx context.Context, r struct{ N, Fail, DelayMS int }, send func(map[string]int) error) error {
		for i := range r.N {
			if r.DelayMS > 0 {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(time.Duration(r.DelayMS) * time.Millisecond):
				}
			}
			if r.Fail > 0 && i == r.Fail {
				return status.Error(codes.Aborted, "stopped at "+strconv.Itoa(i))
			}
			if err := send(map[string]int{"i": i}); err != nil {
				return err
			}
		}
		return nil
	}, rpc.MethodOptions{}))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, s.Start(ctx))
	t.Cleanup(func() { s.Close() })
	return id.Name(), s
}

// TestCallStream: a streaming method's items print as JSON lines; an
// error status mid-stream exits 64 + its code after the items before it.
func TestCallStream(t *testing.T) {
	svc, _ := service(t)
	callerEnv(t)
	code, out, errOut := invoke(t, "", "call", svc.String()+"/count", `{"N":3}`)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "{\"i\":0}\n{\"i\":1}\n{\"i\":2}\n", out)
	code, out, errOut = invoke(t, "", "call", svc.String()+"/count", `{"N":5,"Fail":2}`)
	require.Equal(t, exitRPC+int(codes.Aborted), code, errOut)
	require.Equal(t, "{\"i\":0}\n{\"i\":1}\n", out)
	require.Contains(t, errOut, "Aborted: stopped at 2")

	// An explicit --timeout bounds the stream too, and says so.
	code, out, errOut = invoke(t, "", "call", "--timeout", "1500ms", svc.String()+"/count", `{"N":100,"DelayMS":100}`)
	require.Equal(t, exitRPC+int(codes.DeadlineExceeded), code, errOut)
	require.Contains(t, out, `{"i":0}`)
	require.Contains(t, errOut, "ended the stream")
}

// callerEnv gives the CLI a keychain holding a fresh identity and the test
// anchor as the keychain's anchor.cert, and points it at the test
// forwarder. It returns the keychain directory.
func callerEnv(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "keys")
	require.NoError(t, security.SaveIdentity(dir, ndntest.Identity(t, "alice")))
	pem, err := ndntest.Anchor().CertPEM()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "anchor.cert"), pem, 0o644))
	t.Setenv("NDN_CLIENT_TRANSPORT", ndntest.Transport())
	t.Setenv("NDN_INVOKE_KEYCHAIN", "dir://"+dir)
	t.Setenv("NDN_INVOKE_ANCHORS", "")
	return dir
}

// invoke runs the CLI in-process and returns its exit status and output.
func invoke(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = cli(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCall(t *testing.T) {
	svc, _ := service(t)
	callerEnv(t)
	m := func(method string) string { return svc.String() + "/" + method }

	code, out, errOut := invoke(t, "", "call", m("div"), `{"A":7,"B":2}`)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "{\"Q\":3}\n", out)

	code, out, errOut = invoke(t, `{"A":9,"B":3}`, "call", "--timeout", "5s", m("div"), "-")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "{\"Q\":3}\n", out)

	code, out, errOut = invoke(t, "", "call", m("ping"), "--public")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "\"pong\"\n", out)

	// RPC errors: 64 + code, "Code: message" on stderr.
	for _, tc := range []struct {
		name, method, body string
		want               codes.Code
		stderr             string
	}{
		{"invalid", "div", `{"A":1,"B":0}`, codes.InvalidArgument, "InvalidArgument: division by zero"},
		{"denied", "secret", `{}`, codes.PermissionDenied, "PermissionDenied: "},
		{"unknown method", "nope", `{}`, codes.Unimplemented, "Unimplemented: unknown method"},
		{"private method called public", "div", `{}`, codes.Unauthenticated, "Unauthenticated: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"call", m(tc.method), tc.body, "--retries", "0"}
			if strings.HasPrefix(tc.name, "private") {
				args = append(args, "--public")
			}
			code, out, errOut := invoke(t, "", args...)
			require.Equal(t, 64+int(tc.want), code, "stderr: %s", errOut)
			require.True(t, strings.HasPrefix(errOut, tc.stderr), "stderr: %q", errOut)
			require.Empty(t, out)
		})
	}
	require.Equal(t, 67, 64+int(codes.InvalidArgument))
	require.Equal(t, 71, 64+int(codes.PermissionDenied))
	require.Equal(t, 76, 64+int(codes.Unimplemented))

	// --json envelopes, for OK and for an error.
	code, out, errOut = invoke(t, "", "call", "--json", m("meta"), "-H", "tenant=blue")
	require.Equal(t, 0, code, errOut)
	var env struct {
		Name, Code, Message string
		Reply               map[string]string
		Metadata            map[string][]string
	}
	require.NoError(t, json.Unmarshal([]byte(out), &env))
	require.Equal(t, m("meta"), env.Name)
	require.Equal(t, "OK", env.Code)
	require.Equal(t, map[string]string{"tenant": "blue"}, env.Reply, "-H reaches the handler")
	require.Equal(t, []string{"svc"}, env.Metadata["served-by"])

	code, out, _ = invoke(t, "", "call", "--json", m("div"), `{"B":0}`)
	require.Equal(t, 67, code)
	env.Reply = nil
	require.NoError(t, json.Unmarshal([]byte(out), &env))
	require.Equal(t, "InvalidArgument", env.Code)
	require.Equal(t, "division by zero", env.Message)
	require.Nil(t, env.Reply)

	// --raw: bytes in, bytes out, as they are.
	code, out, errOut = invoke(t, "ab\x00\xffc", "call", "--raw", m("reverse"), "-")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "c\xff\x00ba", out)
}

func TestCallUsageAndLocalErrors(t *testing.T) {
	dir := callerEnv(t)
	for _, args := range [][]string{
		{"call"},
		{"call", "/only-one-component"},
		{"call", "not-a-name/x"},
		{"call", "/a/b", "{not json"},
		{"call", "/a/b", "{}", "extra"},
		{"call", "/a/b", "-H", "novalue"},
		{"call", "/a/b", "--raw", "--json"},
		{"call", "/a/b", "--no-such-flag"},
		{"describe"},
		{"health", "/a", "/b"},
		{"list", "extra"},
		{"help", "bogus"},
	} {
		code, _, errOut := invoke(t, "", args...)
		require.Equal(t, 2, code, "%v: %s", args, errOut)
		require.NotContains(t, errOut, "goroutine ", "no stack traces")
	}

	// Local errors exit 1 with a message saying what to do.
	t.Setenv("NDN_CLIENT_TRANSPORT", "unix://"+filepath.Join(t.TempDir(), "nothing.sock"))
	code, _, errOut := invoke(t, "", "describe", "/a")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "no NDN forwarder")
	require.Contains(t, errOut, "ndn-invoke forwarder")

	t.Setenv("NDN_CLIENT_TRANSPORT", ndntest.Transport())
	require.NoError(t, os.Remove(filepath.Join(dir, "anchor.cert")))
	code, _, errOut = invoke(t, "", "describe", "/a")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "no trust anchor")

	t.Setenv("NDN_INVOKE_KEYCHAIN", "dir://"+filepath.Join(t.TempDir(), "missing"))
	code, _, errOut = invoke(t, "", "call", "/a/b")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "must be signed")
	code, _, errOut = invoke(t, "", "call", "/a/b", "--keychain", "dir://"+filepath.Join(t.TempDir(), "missing"))
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "keychain")
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help", "call"}, {"call", "--help"}, {"call", "-h"}} {
		code, out, errOut := invoke(t, "", args...)
		require.Equal(t, 0, code, errOut)
		for _, s := range []string{"Usage: ndn-invoke call NAME [JSON|-]", "--timeout duration", "-H key=value", "--anchor FILE", "Examples:", "78 Unavailable"} {
			require.Contains(t, out, s, "%v", args)
		}
	}
	code, out, _ := invoke(t, "", "help")
	require.Equal(t, 0, code)
	require.Contains(t, out, "ndn-invoke call NAME")
}

func TestDescribeHealthList(t *testing.T) {
	svc, server := service(t)
	dir := callerEnv(t)

	code, out, errOut := invoke(t, "", "describe", svc.String())
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "service "+svc.String()+" (version 1.2), 6 method(s)")
	require.Regexp(t, `(?m)^div\s+no\s+-\s+yes\s+\{"A":"number","B":"number"\}\s+integer division$`, out)
	require.Regexp(t, `(?m)^ping\s+yes\s+1s\s+yes\s+\{\}`, out)

	code, out, errOut = invoke(t, "", "describe", "--json", svc.String())
	require.Equal(t, 0, code, errOut)
	var d rpc.Description
	require.NoError(t, json.Unmarshal([]byte(out), &d))
	require.Equal(t, svc.String(), d.Service)
	require.Len(t, d.Methods, 6)
	require.True(t, d.Methods[0].Stream, "count streams")

	code, out, errOut = invoke(t, "", "health", svc.String())
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "SERVING\n", out)

	// list, with the anchor given by NDN_INVOKE_ANCHORS (a directory).
	anchors := t.TempDir()
	require.NoError(t, os.Rename(filepath.Join(dir, "anchor.cert"), filepath.Join(anchors, "test.cert")))
	t.Setenv("NDN_INVOKE_ANCHORS", anchors)
	code, out, errOut = invoke(t, "", "list")
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `(?m)^`+regexp.QuoteMeta(svc.String())+`\s+1.2\s+6\s+yes$`, out)
	code, out, errOut = invoke(t, "", "list", "--json")
	require.Equal(t, 0, code, errOut)
	var list []listedService
	require.NoError(t, json.Unmarshal([]byte(out), &list))
	require.Contains(t, list, listedService{Service: svc.String(), Version: "1.2", Methods: 6, Verified: true})
	for _, l := range list {
		require.NotContains(t, l.Service, "/KEY")
	}

	// A stopped service is not serving: 78, with the reason on stderr.
	require.NoError(t, server.Close())
	code, out, errOut = invoke(t, "", "health", svc.String(), "--timeout", "500ms")
	require.Equal(t, 78, code)
	require.Empty(t, out)
	require.NotEmpty(t, errOut)
}

// TestCallStreamIn: --stream-in sends stdin's JSON lines as the client's
// stream; a client-streaming method prints its response, a bidirectional
// one its items as they come.
func TestCallStreamIn(t *testing.T) {
	id := ndntest.Identity(t, "svc")
	node := ndntest.Connect(t, ndnx.Config{Identity: id})
	s, err := rpc.NewServer(node, rpc.ServerConfig{Service: id.Name()})
	require.NoError(t, err)
	type sum struct {
		Sum   int `json:"sum"`
		Count int `json:"count"`
	}
	require.NoError(t, rpc.ClientStream(s.Mux, "sum", func(_ context.Context, r struct{ Base int }, recv func() (int, error)) (sum, error) {
		out := sum{Sum: r.Base}
		for {
			x, err := recv()
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			if err != nil {
				return sum{}, err
			}
			out.Sum += x
			out.Count++
		}
	}, rpc.MethodOptions{}))
	require.NoError(t, rpc.BidiStream(s.Mux, "double", func(_ context.Context, _ struct{}, recv func() (int, error), send func(int) error) error {
		for {
			x, err := recv()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if x < 0 {
				return status.Errorf(codes.InvalidArgument, "%d is negative", x)
			}
			if err := send(2 * x); err != nil {
				return err
			}
		}
	}, rpc.MethodOptions{}))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, s.Start(ctx))
	t.Cleanup(func() { s.Close() })
	callerEnv(t)
	m := func(method string) string { return id.Name().String() + "/" + method }

	code, out, errOut := invoke(t, "1\n2\n\n 3 \n", "call", "--stream-in", m("sum"), `{"Base":10}`)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "{\"sum\":16,\"count\":3}\n", out)

	code, out, errOut = invoke(t, "1\n2\n3", "call", m("double"), "--stream-in")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "2\n4\n6\n", out)

	code, out, errOut = invoke(t, "", "call", m("double"), "--stream-in")
	require.Equal(t, 0, code, errOut)
	require.Empty(t, out, "an empty stream")

	// An error status ends the output after the items before it.
	code, out, errOut = invoke(t, "1\n-1\n5\n", "call", "--stream-in", m("double"))
	require.Equal(t, exitRPC+int(codes.InvalidArgument), code, errOut)
	require.Equal(t, "2\n", out)
	require.Contains(t, errOut, "InvalidArgument: -1 is negative")

	// A line that is not JSON is a usage error, and the call is abandoned.
	code, out, errOut = invoke(t, "1\n{nope\n", "call", "--stream-in", m("sum"))
	require.Equal(t, 2, code, errOut)
	require.Empty(t, out)
	require.Contains(t, errOut, "stdin line 2 is not valid JSON")

	// Without --stream-in the server says what to do.
	code, _, errOut = invoke(t, "", "call", m("sum"), "--retries", "0")
	require.Equal(t, exitRPC+int(codes.InvalidArgument), code, errOut)
	require.Contains(t, errOut, "--stream-in")
	for _, args := range [][]string{
		{"call", "--stream-in", m("sum"), "-"},
		{"call", "--stream-in", "--raw", m("sum")},
		{"call", "--stream-in", "--public", m("sum")},
	} {
		code, _, errOut = invoke(t, "", args...)
		require.Equal(t, 2, code, "%v: %s", args, errOut)
	}

	// describe tells the kinds.
	code, out, errOut = invoke(t, "", "describe", "--json", id.Name().String())
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, `"client_stream":true`)
	require.Contains(t, out, `"bidi_stream":true`)
}
