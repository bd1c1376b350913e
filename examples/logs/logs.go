package logs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	enc "github.com/named-data/ndnd/std/encoding"

	"github.com/ndn-invoke/ndn-invoke/examples/calc"
	ndnx "github.com/ndn-invoke/ndn-invoke/ndn"
	"github.com/ndn-invoke/ndn-invoke/rpc"
	"github.com/ndn-invoke/ndn-invoke/rpc/codes"
	"github.com/ndn-invoke/ndn-invoke/rpc/status"
	"github.com/ndn-invoke/ndn-invoke/security"
)

// Service is the service name.
const Service = "/example/logs"

// PolicyText is the service's authorization policy.
const PolicyText = `# /example/logs: users may read the logs.
allow /example/users/<...> to call /example/logs/Tail
allow /example/users/<...> to call /example/logs/List
`

// TailRequest is Tail's argument.
type TailRequest struct {
	// File is the log's path relative to the served directory.
	File string `json:"file"`
	// Lines is how many of the file's last lines to send first: nil
	// means 10, as tail; 0 sends none (with Follow, only new lines).
	Lines *int `json:"lines,omitempty"`
	// Follow keeps the stream open, sending lines as they are appended.
	Follow bool `json:"follow,omitempty"`
}

// Line is one item of Tail's stream.
type Line struct {
	Line string `json:"line"`
}

// ListRequest is List's argument (none).
type ListRequest struct{}

// FileInfo describes one log file.
type FileInfo struct {
	Name     string    `json:"name"`
	Size     int64     `json:"size"`
	Modified time.Time `json:"modified"`
}

// ListResponse is List's reply: the regular files at the top of the
// served directory, by name.
type ListResponse struct {
	Files []FileInfo `json:"files"`
}

// ErrInvalidConfig is returned by Config.Validate, Register and Start for a
// configuration that cannot work.
var ErrInvalidConfig = errors.New("logs: invalid config")

// Config configures the service. A zero field means its default.
type Config struct {
	// Dir is the directory whose files are served; nothing outside it is.
	// Required.
	Dir string
	// DefaultLines is how many last lines Tail sends when the request
	// does not say. Default 10.
	DefaultLines int
	// MaxLines bounds TailRequest.Lines. Default 1000.
	MaxLines int
	// MaxLineBytes splits longer lines into pieces of this many bytes.
	// Default 16384.
	MaxLineBytes int
	// Poll is how often a following Tail looks at its file. Default 250ms.
	Poll time.Duration
	// Logger receives the service's log. Default slog.Default().
	Logger *slog.Logger
}

// DefaultConfig returns a Config with the defaults filled in; Dir is still
// to be set.
func DefaultConfig() Config {
	return Config{DefaultLines: 10, MaxLines: 1000, MaxLineBytes: 16384, Poll: 250 * time.Millisecond, Logger: slog.Default()}
}

// Validate reports a missing Dir or a negative setting (ErrInvalidConfig).
// It does no I/O: a Dir that does not exist shows in the calls.
func (c Config) Validate() error {
	switch {
	case c.Dir == "":
		return fmt.Errorf("%w: Dir is required", ErrInvalidConfig)
	case c.DefaultLines < 0, c.MaxLines < 0, c.MaxLineBytes < 0, c.Poll < 0:
		return fmt.Errorf("%w: DefaultLines, MaxLines, MaxLineBytes and Poll must not be negative", ErrInvalidConfig)
	case c.MaxLines > 0 && c.DefaultLines > c.MaxLines:
		return fmt.Errorf("%w: DefaultLines is larger than MaxLines", ErrInvalidConfig)
	}
	return nil
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.DefaultLines == 0 {
		c.DefaultLines = d.DefaultLines
	}
	if c.MaxLines == 0 {
		c.MaxLines = max(d.MaxLines, c.DefaultLines)
	}
	if c.MaxLineBytes == 0 {
		c.MaxLineBytes = d.MaxLineBytes
	}
	if c.Poll == 0 {
		c.Poll = d.Poll
	}
	if c.Logger == nil {
		c.Logger = d.Logger
	}
	c.Logger = c.Logger.With("component", "logs")
	return c
}

// Register adds Tail (a server stream) and List to m. Errors:
// ErrInvalidConfig, or the Mux's registration errors.
func Register(m *rpc.Mux, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	s := &tailer{cfg: cfg.withDefaults()}
	return errors.Join(
		rpc.ServerStream(m, "Tail", s.tail, rpc.MethodOptions{
			Idempotent:  true,
			Description: "streams a log file's last lines (default 10), then, with follow, the lines appended to it",
		}),
		rpc.Unary(m, "List", s.list, rpc.MethodOptions{
			Idempotent:  true,
			Description: "lists the log files",
		}),
	)
}

// Policy parses PolicyText.
func Policy() (*security.Policy, error) { return security.ParsePolicy(PolicyText) }

// Start serves Service on node (whose identity should be /example/logs)
// with PolicyText, and returns once the forwarder routes it. The caller
// shuts the server down. Errors: ErrInvalidConfig, rpc.Server.Start's.
func Start(ctx context.Context, node *ndnx.Node, cfg Config) (*rpc.Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	policy, err := Policy()
	if err != nil {
		return nil, err
	}
	s, err := rpc.NewServer(node, rpc.ServerConfig{Service: name(Service), Version: "1.0.0", Policy: policy, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	if err := Register(s.Mux, cfg); err != nil {
		return nil, err
	}
	if err := s.Start(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

type tailer struct {
	cfg Config
}

// list is List: the regular files at the top of Dir.
func (s *tailer) list(_ context.Context, _ ListRequest) (ListResponse, error) {
	entries, err := os.ReadDir(s.cfg.Dir)
	if err != nil {
		return ListResponse{}, status.Errorf(codes.Unavailable, "the log directory: %v", fsReason(err))
	}
	out := ListResponse{Files: []FileInfo{}}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // gone meanwhile
		}
		out.Files = append(out.Files, FileInfo{Name: e.Name(), Size: fi.Size(), Modified: fi.ModTime().UTC()})
	}
	sort.Slice(out.Files, func(i, j int) bool { return out.Files[i].Name < out.Files[j].Name })
	return out, nil
}

// tail is Tail.
func (s *tailer) tail(ctx context.Context, req TailRequest, send func(Line) error) error {
	n := s.cfg.DefaultLines
	if req.Lines != nil {
		n = *req.Lines
	}
	if n < 0 || n > s.cfg.MaxLines {
		return status.Errorf(codes.InvalidArgument, "lines must be 0 to %d, got %d", s.cfg.MaxLines, n)
	}
	if req.File == "" || filepath.IsAbs(req.File) {
		return status.Error(codes.InvalidArgument, "file must be a path relative to the log directory")
	}
	root, err := os.OpenRoot(s.cfg.Dir)
	if err != nil {
		return status.Errorf(codes.Unavailable, "the log directory: %v", fsReason(err))
	}
	defer root.Close()
	f, fi, err := openRegular(root, req.File)
	if err != nil {
		return err
	}
	defer func() { f.Close() }()

	emit := func(line string) error { return send(Line{Line: line}) }
	sp := &splitter{max: s.cfg.MaxLineBytes}
	buf := make([]byte, 32<<10)
	start, err := tailStart(f, fi.Size(), n, int64(n)*int64(s.cfg.MaxLineBytes+1))
	if err != nil {
		return status.Errorf(codes.Internal, "read %s: %v", req.File, fsReason(err))
	}
	off, err := copyLines(f, buf, start, fi.Size(), sp, emit)
	if err != nil {
		return err
	}
	if !req.Follow {
		return sp.flush(emit)
	}

	t := time.NewTicker(s.cfg.Poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		// Replaced (rotated) or truncated: start over from the top, as
		// tail -F. A file that is gone for now is waited for.
		if cur, err := root.Stat(req.File); err == nil && !os.SameFile(cur, fi) {
			if nf, nfi, err := openRegular(root, req.File); err == nil {
				// The old file's last words first.
				_, err := copyLines(f, buf, off, -1, sp, emit)
				if err == nil {
					err = sp.flush(emit)
				}
				f.Close()
				f, fi, off = nf, nfi, 0
				if err != nil {
					return err
				}
			}
		}
		now, err := f.Stat()
		if err != nil {
			return status.Errorf(codes.Internal, "stat %s: %v", req.File, fsReason(err))
		}
		if now.Size() < off {
			off = 0
			sp.reset()
		}
		if off, err = copyLines(f, buf, off, now.Size(), sp, emit); err != nil {
			return err
		}
	}
}

// openRegular opens name under root for reading, refusing what is not a
// regular file. O_NONBLOCK keeps a FIFO put in the file's place from
// blocking the open; it does nothing to regular files.
func openRegular(root *os.Root, name string) (*os.File, fs.FileInfo, error) {
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, status.Errorf(codes.NotFound, "no log file %q", name)
		}
		if errors.Is(err, fs.ErrPermission) {
			return nil, nil, status.Errorf(codes.PermissionDenied, "log file %q: permission denied", name)
		}
		return nil, nil, status.Errorf(codes.InvalidArgument, "log file %q: %v", name, fsReason(err))
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, status.Errorf(codes.InvalidArgument, "%q is not a regular file", name)
	}
	return f, fi, nil
}

// copyLines reads f from off up to end (-1: to EOF) through buf, feeds sp,
// and returns the offset reached. A send error ends it.
func copyLines(f io.ReaderAt, buf []byte, off, end int64, sp *splitter, emit func(string) error) (int64, error) {
	for end < 0 || off < end {
		want := int64(len(buf))
		if end >= 0 {
			want = min(want, end-off)
		}
		k, err := f.ReadAt(buf[:want], off)
		off += int64(k)
		if ferr := sp.feed(buf[:k], emit); ferr != nil {
			return off, ferr
		}
		if err == io.EOF || (err == nil && k == 0) {
			return off, nil
		}
		if err != nil {
			return off, status.Errorf(codes.Internal, "read: %v", fsReason(err))
		}
	}
	return off, nil
}

// fsReason is err without the path the os package puts in it, which would
// show the server's directory layout to callers.
func fsReason(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// EnsureDomain returns the demo trust domain under dir (calc.EnsureDomain)
// with /example/logs added to its service keychain on first use.
func EnsureDomain(dir string) (calc.Domain, error) {
	d, err := calc.EnsureDomain(dir)
	if err != nil {
		return d, err
	}
	kc := "dir://" + d.ServiceKeys
	if _, err := security.LoadIdentity(kc, name(Service)); err == nil {
		return d, nil
	}
	anchor, err := security.LoadIdentity(kc, name("/example"))
	if err != nil {
		return d, fmt.Errorf("logs: the demo domain's anchor: %w", err)
	}
	id, err := anchor.Issue(name(Service), 365*24*time.Hour)
	if err != nil {
		return d, err
	}
	return d, security.SaveIdentity(d.ServiceKeys, id)
}

func name(uri string) enc.Name {
	n, _ := enc.NameFromStr(uri)
	return n
}
