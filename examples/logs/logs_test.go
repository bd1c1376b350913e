package logs_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ndn-invoke/ndn-invoke/examples/logs"
	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/ndn/ndntest"
	"github.com/ndn-invoke/ndn-invoke/rpc"
	"github.com/ndn-invoke/ndn-invoke/rpc/codes"
	"github.com/ndn-invoke/ndn-invoke/rpc/status"
)

func TestMain(m *testing.M) { ndntest.Main(m) }

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		in      logs.Config
		wantErr bool
	}{
		{"dir only", logs.Config{Dir: "/tmp"}, false},
		{"defaults", func() logs.Config { c := logs.DefaultConfig(); c.Dir = "/tmp"; return c }(), false},
		{"no dir", logs.Config{}, true},
		{"negative lines", logs.Config{Dir: "/tmp", MaxLines: -1}, true},
		{"negative poll", logs.Config{Dir: "/tmp", Poll: -time.Second}, true},
		{"default above max", logs.Config{Dir: "/tmp", DefaultLines: 20, MaxLines: 10}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.in.Validate()
			require.Equal(t, tt.wantErr, err != nil, "%v", err)
			if err != nil {
				require.ErrorIs(t, err, logs.ErrInvalidConfig)
				require.ErrorIs(t, logs.Register(rpc.NewMux(), tt.in), logs.ErrInvalidConfig)
			}
		})
	}
}

// serve starts the service on dir and returns a user's client.
func serve(t *testing.T, cfg logs.Config) *rpc.Client {
	svcID, err := ndntest.Anchor().Issue(mustName(logs.Service), time.Hour)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := logs.Start(ctx, ndntest.Connect(t, ndnx.Config{Identity: svcID}), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	alice, err := ndntest.Anchor().Issue(mustName("/example/users/alice"), time.Hour)
	require.NoError(t, err)
	c, err := rpc.NewClient(ndntest.Connect(t, ndnx.Config{Identity: alice}), rpc.ClientConfig{})
	require.NoError(t, err)
	return c
}

// tail reads a Tail stream to its end: the lines, and the end's status.
func tail(t *testing.T, c *rpc.Client, req logs.TailRequest) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := c.Stream(ctx, logs.Service+"/Tail", req, nil)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	var lines []string
	for {
		var l logs.Line
		err := st.Recv(&l)
		if err == io.EOF {
			return lines, nil
		}
		if err != nil {
			return lines, err
		}
		lines = append(lines, l.Line)
	}
}

// TestTailRequests: what is served and what is refused, and with which
// code. Nothing outside the directory, nothing but regular files, and a
// FIFO does not hang the handler.
func TestTailRequests(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "logs")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "sub"), 0o755))
	write := func(p, s string) { require.NoError(t, os.WriteFile(p, []byte(s), 0o644)) }
	write(filepath.Join(dir, "app.log"), strings.Repeat("line\n", 30)+"last\n")
	write(filepath.Join(dir, "sub", "db.log"), "one\ntwo\n")
	write(filepath.Join(root, "secret"), "do not serve\n")
	require.NoError(t, os.Symlink(filepath.Join(root, "secret"), filepath.Join(dir, "escape.log")))
	require.NoError(t, os.Symlink("app.log", filepath.Join(dir, "inside.log")))
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644))
	c := serve(t, logs.Config{Dir: dir, MaxLines: 20, Poll: 20 * time.Millisecond})

	tests := []struct {
		name  string
		req   logs.TailRequest
		want  []string
		code  codes.Code
		lines int // when want is nil: how many lines
	}{
		{name: "default 10", req: logs.TailRequest{File: "app.log"}, lines: 10},
		{name: "last 2", req: logs.TailRequest{File: "app.log", Lines: new(2)}, want: []string{"line", "last"}},
		{name: "none", req: logs.TailRequest{File: "app.log", Lines: new(0)}},
		{name: "subdirectory", req: logs.TailRequest{File: "sub/db.log"}, want: []string{"one", "two"}},
		{name: "symlink inside", req: logs.TailRequest{File: "inside.log", Lines: new(1)}, want: []string{"last"}},
		{name: "missing", req: logs.TailRequest{File: "nope.log"}, code: codes.NotFound},
		{name: "no file", req: logs.TailRequest{}, code: codes.InvalidArgument},
		{name: "absolute", req: logs.TailRequest{File: filepath.Join(root, "secret")}, code: codes.InvalidArgument},
		{name: "dot dot", req: logs.TailRequest{File: "../secret"}, code: codes.InvalidArgument},
		{name: "symlink out", req: logs.TailRequest{File: "escape.log"}, code: codes.InvalidArgument},
		{name: "directory", req: logs.TailRequest{File: "sub"}, code: codes.InvalidArgument},
		{name: "fifo", req: logs.TailRequest{File: "fifo"}, code: codes.InvalidArgument},
		{name: "negative lines", req: logs.TailRequest{File: "app.log", Lines: new(-1)}, code: codes.InvalidArgument},
		{name: "too many lines", req: logs.TailRequest{File: "app.log", Lines: new(21)}, code: codes.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines, err := tail(t, c, tt.req)
			require.Equal(t, tt.code, status.Code(err), "%v", err)
			if err != nil {
				require.NotContains(t, err.Error(), root, "errors must not show the server's paths")
				return
			}
			if tt.want != nil {
				require.Equal(t, tt.want, lines)
			} else {
				require.Len(t, lines, tt.lines)
			}
		})
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var list logs.ListResponse
	require.NoError(t, c.Call(ctx, logs.Service+"/List", logs.ListRequest{}, &list, nil))
	var names []string
	for _, f := range list.Files {
		names = append(names, f.Name)
	}
	require.Equal(t, []string{"app.log"}, names, "regular files only: no directory, FIFO or symbolic link")
}

// TestFollow: a following Tail sends appended lines once complete, starts
// over on a truncated file, and follows a rotated one to its replacement.
func TestFollow(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "app.log")
	require.NoError(t, os.WriteFile(p, []byte("old\n"), 0o644))
	c := serve(t, logs.Config{Dir: dir, Poll: 10 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := c.Stream(ctx, logs.Service+"/Tail", logs.TailRequest{File: "app.log", Lines: new(1), Follow: true}, nil)
	require.NoError(t, err)
	defer st.Close()
	next := func() string {
		var l logs.Line
		require.NoError(t, st.Recv(&l))
		return l.Line
	}
	appendTo := func(path, s string) {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
		require.NoError(t, err)
		_, err = f.WriteString(s)
		require.NoError(t, err)
		require.NoError(t, f.Close())
	}
	require.Equal(t, "old", next()) // the service watches the file now

	appendTo(p, "a partial")
	appendTo(p, " line\n")
	require.Equal(t, "a partial line", next(), "a line goes once its newline is written")

	require.NoError(t, os.WriteFile(p, []byte("x\n"), 0o644)) // truncated, rewritten shorter
	require.Equal(t, "x", next())

	// Rotation: the old file gets its last line, is renamed away, and a
	// new one takes its name.
	appendTo(p, "last words\n")
	require.NoError(t, os.Rename(p, p+".1"))
	appendTo(p, "fresh\n")
	require.Equal(t, "last words", next())
	require.Equal(t, "fresh", next())
}
