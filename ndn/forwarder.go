package ndn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ForwarderConfig configures an embedded forwarder. A zero field means the
// default.
type ForwarderConfig struct {
	// Dir holds the forwarder's socket (nfd.sock), config (fw.yml) and log
	// (fw.log). Required; created if missing. Unix socket paths are limited
	// to 107 bytes, so keep it short.
	Dir string
	// Binary is the ndnd executable. Default: FindNdnd().
	Binary string
	// UDPPort is the unicast UDP port. ndnd v1.5.3 binds UDP on 0.0.0.0 and
	// [::] at this port even when UDP is disabled (fw/cmd/yanfd.go:130-135),
	// so two forwarders on one host need different ports. Default: a free
	// port picked at start.
	UDPPort int
	// CSCapacity is the Content Store capacity in packets. Default 4096.
	CSCapacity int
	// Threads is the number of forwarding threads. Default 2.
	Threads int
	// LogLevel is the forwarder's log level (TRACE, DEBUG, INFO, WARN, ERROR).
	// Default WARN. The log goes to Dir/fw.log.
	LogLevel string
	// StartTimeout bounds how long Start waits for the socket to accept
	// connections. Default 15s.
	StartTimeout time.Duration
	// Logger receives our own messages about the forwarder. Default slog.Default().
	Logger *slog.Logger
}

// Forwarder is a real ndnd forwarder (YaNFD) running as a child process and
// listening on a unix socket under its directory.
//
// Why a child process and not in-process: YaNFD keeps its state in package
// globals (fw/core.C, the face table, the RIB), so there can be only one per
// process and it cannot be restarted cleanly; its Stop does not wait for its
// goroutines. A child process gives each test binary, demo and repo its own
// forwarder, lets tests kill and restart it (forwarder-restart tests), is
// exactly what runs in production, and cannot leak goroutines into ours. The
// child gets SIGKILL if our process dies (Pdeathsig), so a crashed test
// leaves no forwarder behind.
type Forwarder struct {
	cfg       ForwarderConfig
	transport string
	cmd       *exec.Cmd
	done      chan struct{} // closed when the process has exited
	waitErr   error

	stopOnce sync.Once
}

// FindNdnd locates the ndnd executable: $NDND_BIN, then ndnd next to the
// running executable (bin/ after `make build`), then ./bin/ndnd, then $PATH.
func FindNdnd() (string, error) {
	if p := os.Getenv("NDND_BIN"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("ndn: NDND_BIN=%s: %w", p, err)
		}
		return p, nil
	}
	var candidates []string
	if exe, err := os.Executable(); err == nil {
		candidates = append(candidates, filepath.Join(filepath.Dir(exe), "ndnd"))
	}
	candidates = append(candidates, filepath.Join("bin", "ndnd"))
	for _, c := range candidates {
		if st, err := os.Stat(c); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return filepath.Abs(c)
		}
	}
	if p, err := exec.LookPath("ndnd"); err == nil {
		return p, nil
	}
	return "", errors.New("ndn: ndnd binary not found (set NDND_BIN, or build it: " +
		"go build -o bin/ndnd github.com/named-data/ndnd/cmd/ndnd)")
}

// StartForwarder starts a forwarder and returns once its socket accepts
// connections, or with an error that includes the tail of its log. ctx
// bounds the start only; Stop ends the process.
func StartForwarder(ctx context.Context, cfg ForwarderConfig) (*Forwarder, error) {
	if cfg.Dir == "" {
		return nil, errors.New("ndn: ForwarderConfig.Dir is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.CSCapacity == 0 {
		cfg.CSCapacity = 4096
	}
	if cfg.Threads == 0 {
		cfg.Threads = 2
	}
	if cfg.LogLevel == "" {
		cfg.LogLevel = "WARN"
	}
	if cfg.StartTimeout == 0 {
		cfg.StartTimeout = 15 * time.Second
	}
	if cfg.Binary == "" {
		b, err := FindNdnd()
		if err != nil {
			return nil, err
		}
		cfg.Binary = b
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("ndn: forwarder dir: %w", err)
	}
	cfg.Dir = dir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("ndn: forwarder dir: %w", err)
	}
	sock := filepath.Join(dir, "nfd.sock")
	if len(sock) > 107 {
		return nil, fmt.Errorf("ndn: socket path %s is longer than 107 bytes; use a shorter Dir", sock)
	}
	if cfg.UDPPort == 0 {
		p, err := freeUDPPort()
		if err != nil {
			return nil, fmt.Errorf("ndn: pick a UDP port: %w", err)
		}
		cfg.UDPPort = p
	}
	_ = os.Remove(sock) // a stale socket from a killed forwarder blocks the listener

	conf := filepath.Join(dir, "fw.yml")
	logFile := filepath.Join(dir, "fw.log")
	if err := os.WriteFile(conf, []byte(forwarderYAML(cfg, sock, logFile)), 0o644); err != nil {
		return nil, fmt.Errorf("ndn: write forwarder config: %w", err)
	}

	cmd := exec.Command(cfg.Binary, "fw", "run", conf)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:   true,            // a terminal's Ctrl-C reaches us, and we stop it in order
		Pdeathsig: syscall.SIGKILL, // never outlive the process that started it
	}
	out, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("ndn: forwarder log: %w", err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("ndn: start forwarder %s: %w", cfg.Binary, err)
	}
	out.Close() // the child holds its own descriptor

	f := &Forwarder{cfg: cfg, transport: "unix://" + sock, cmd: cmd, done: make(chan struct{})}
	go f.wait() // owned: ends when the process exits; Stop ensures that

	if err := f.waitReady(ctx, sock); err != nil {
		f.Stop()
		return nil, fmt.Errorf("%w\n%s", err, tail(logFile, 20))
	}
	cfg.Logger.Debug("forwarder started", "transport", f.transport, "pid", cmd.Process.Pid, "udp", cfg.UDPPort)
	return f, nil
}

func (f *Forwarder) wait() {
	f.waitErr = f.cmd.Wait()
	close(f.done)
}

func (f *Forwarder) waitReady(ctx context.Context, sock string) error {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.StartTimeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if c, err := net.DialTimeout("unix", sock, time.Second); err == nil {
			c.Close()
			return nil
		}
		select {
		case <-f.done:
			return fmt.Errorf("ndn: forwarder exited during start: %v", f.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("ndn: forwarder socket %s not ready: %w", sock, ctx.Err())
		case <-tick.C:
		}
	}
}

// Transport is the URI clients use to reach this forwarder
// (unix:///DIR/nfd.sock); set it as NDN_CLIENT_TRANSPORT or Config.Transport.
func (f *Forwarder) Transport() string { return f.transport }

// UDPPort is the unicast UDP port the forwarder bound.
func (f *Forwarder) UDPPort() int { return f.cfg.UDPPort }

// Pid is the forwarder's process id.
func (f *Forwarder) Pid() int { return f.cmd.Process.Pid }

// LogFile is the path of the forwarder's log.
func (f *Forwarder) LogFile() string { return filepath.Join(f.cfg.Dir, "fw.log") }

// Done is closed when the forwarder process has exited.
func (f *Forwarder) Done() <-chan struct{} { return f.done }

// Stop asks the forwarder to exit (SIGTERM), kills it after 5 s, and waits
// for it. Idempotent and safe for concurrent use.
func (f *Forwarder) Stop() error {
	f.stopOnce.Do(func() {
		_ = f.cmd.Process.Signal(syscall.SIGTERM)
		t := time.NewTimer(5 * time.Second)
		defer t.Stop()
		select {
		case <-f.done:
		case <-t.C:
			_ = f.cmd.Process.Kill()
			<-f.done
		}
	})
	return nil
}

// Kill ends the forwarder at once (SIGKILL) and waits for it, as a crash
// would. For fault tests.
func (f *Forwarder) Kill() {
	f.stopOnce.Do(func() {
		_ = f.cmd.Process.Kill()
		<-f.done
	})
}

func forwarderYAML(cfg ForwarderConfig, sock, logFile string) string {
	return fmt.Sprintf(`# written by ndn-invoke for an embedded forwarder
core:
  log_level: %s
  log_file: %q
faces:
  queue_size: 1024
  udp:
    enabled_unicast: false
    enabled_multicast: false
    port_unicast: %d
  tcp:
    enabled: false
  unix:
    enabled: true
    socket_path: %q
  websocket:
    enabled: false
  http3:
    enabled: false
fw:
  threads: %d
tables:
  content_store:
    capacity: %d
    admit: true
    serve: true
`, cfg.LogLevel, logFile, cfg.UDPPort, sock, cfg.Threads, cfg.CSCapacity)
}

// freeUDPPort finds a port free on both 0.0.0.0 and [::], as ndnd binds both.
func freeUDPPort() (int, error) {
	for range 20 {
		c4, err := net.ListenPacket("udp4", "0.0.0.0:0")
		if err != nil {
			return 0, err
		}
		port := c4.LocalAddr().(*net.UDPAddr).Port
		c6, err := net.ListenPacket("udp6", fmt.Sprintf("[::]:%d", port))
		c4.Close()
		if err != nil {
			if errors.Is(err, syscall.EAFNOSUPPORT) || strings.Contains(err.Error(), "address family") {
				return port, nil // no IPv6 here: ndnd's [::] bind fails harmlessly
			}
			continue
		}
		c6.Close()
		return port, nil
	}
	return 0, errors.New("no free UDP port found")
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "forwarder log (" + path + "):\n  " + strings.Join(lines, "\n  ")
}
