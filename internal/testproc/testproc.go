// Package testproc runs a long-lived helper process for a test (a collector, a
// log database, the demo server) or for cmd/auditload: it starts the process
// with its output appended to a log file, polls a readiness check until it
// passes, and stops the process gracefully (SIGTERM, then SIGKILL after a
// grace period). A stopped process can be started again with the same
// arguments, which is how tests simulate an outage.
package testproc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Process is a helper process. Set the exported fields, then call Start.
// The methods are safe for concurrent use.
type Process struct {
	// Path is the executable, Args its arguments (without the program name).
	Path string
	Args []string
	// Env is the complete environment of the process; nil means the
	// environment of the current process.
	Env []string
	// Dir is the working directory; empty means the current one.
	Dir string
	// LogPath is the file that receives the process's stdout and stderr. It
	// is appended to, so that it covers every start of the process.
	LogPath string
	// Ready reports nil once the process serves requests. Start polls it
	// until it returns nil, the process exits, or ReadyTimeout passes.
	Ready func(ctx context.Context) error
	// ReadyTimeout bounds the wait for Ready; zero means one minute.
	ReadyTimeout time.Duration

	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{} // closed when the running cmd has exited
	exitErr error         // cmd.Wait's result, valid after done is closed
}

// Start starts the process and waits until Ready passes. When the process
// exits or does not become ready in time, Start stops it and returns an error
// that includes the end of its log.
func (p *Process) Start(ctx context.Context) error {
	p.mu.Lock()
	if p.cmd != nil {
		p.mu.Unlock()
		return errors.New("testproc: already running")
	}
	logf, err := os.OpenFile(p.LogPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		p.mu.Unlock()
		return fmt.Errorf("testproc: open log: %w", err)
	}
	fmt.Fprintf(logf, "=== testproc: start %s %s at %s\n", p.Path, strings.Join(p.Args, " "), time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(p.Path, p.Args...)
	cmd.Env = p.Env
	cmd.Dir = p.Dir
	cmd.Stdout = logf
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		p.mu.Unlock()
		return fmt.Errorf("testproc: start %s: %w", p.Path, err)
	}
	done := make(chan struct{})
	p.cmd, p.done = cmd, done
	go func() {
		err := cmd.Wait()
		_ = logf.Close()
		p.mu.Lock()
		p.exitErr = err
		p.mu.Unlock()
		close(done)
	}()
	p.mu.Unlock()

	if err := p.waitReady(ctx, done); err != nil {
		_ = p.Stop(5 * time.Second)
		return fmt.Errorf("%w\n--- end of %s ---\n%s", err, p.LogPath, p.LogTail(60))
	}
	return nil
}

func (p *Process) waitReady(ctx context.Context, done <-chan struct{}) error {
	if p.Ready == nil {
		return nil
	}
	timeout := p.ReadyTimeout
	if timeout == 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		select {
		case <-done:
			p.mu.Lock()
			err := p.exitErr
			p.mu.Unlock()
			return fmt.Errorf("testproc: %s exited before it was ready: %v", p.Path, err)
		default:
		}
		// An attempt ends early when the process exits meanwhile.
		attempt, cancelAttempt := context.WithTimeout(ctx, 2*time.Second)
		go func() {
			select {
			case <-done:
				cancelAttempt()
			case <-attempt.Done():
			}
		}()
		last = p.Ready(attempt)
		cancelAttempt()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("testproc: %s not ready after %s: %w (last check: %v)", p.Path, timeout, ctx.Err(), last)
		case <-done:
		case <-tick.C:
		}
	}
}

// Running reports whether the process has been started and has not exited.
func (p *Process) Running() bool {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// Stop asks the process to exit (SIGTERM; a kill where signals do not exist)
// and waits for it, killing it when it is still there after grace. Stopping a
// process that is not running is not an error. It returns an error when the
// process had to be killed or exited unsuccessfully.
func (p *Process) Stop(grace time.Duration) error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return nil
	}
	defer func() {
		p.mu.Lock()
		p.cmd, p.done = nil, nil
		p.mu.Unlock()
	}()

	select {
	case <-done:
		// Already gone: report how it ended.
	default:
		_ = terminate(cmd.Process)
		timer := time.NewTimer(grace)
		defer timer.Stop()
		select {
		case <-done:
		case <-timer.C:
			_ = cmd.Process.Kill()
			<-done
			return fmt.Errorf("testproc: %s did not exit within %s of SIGTERM and was killed", p.Path, grace)
		}
	}
	p.mu.Lock()
	err := p.exitErr
	p.mu.Unlock()
	if err != nil {
		return fmt.Errorf("testproc: %s: %w", p.Path, err)
	}
	return nil
}

// Pid returns the process id, or 0 when the process has not been started or
// has been stopped.
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// LogLine returns the rest of the last complete line of the log that starts
// with prefix, such as the address a server announces; ok is false while
// there is none.
func (p *Process) LogLine(prefix string) (rest string, ok bool) {
	for _, line := range strings.SplitAfter(p.Log(), "\n") {
		if r, found := strings.CutPrefix(line, prefix); found && strings.HasSuffix(r, "\n") {
			rest, ok = strings.TrimSuffix(r, "\n"), true
		}
	}
	return rest, ok
}

// Log returns everything the process has written to its log so far.
func (p *Process) Log() string {
	data, err := os.ReadFile(p.LogPath)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", p.LogPath, err)
	}
	return string(data)
}

// LogTail returns the last n lines of the log.
func (p *Process) LogTail(n int) string {
	lines := strings.SplitAfter(p.Log(), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "")
}

// FreePorts returns n distinct TCP ports on 127.0.0.1 that were free a moment
// ago. All listeners are held until every port is chosen, so the ports differ
// from one another; another process may still take one before it is used.
func FreePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("testproc: free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// HTTPReady returns a readiness check that passes when a GET of url answers
// 200 OK.
func HTTPReady(url string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
		}
		return nil
	}
}
