package peer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ErrNotInstalled is wrapped by the error returned when a peer's program is missing.
var ErrNotInstalled = errors.New("peer: program not installed")

// LookPath finds program in $PATH (and the sbin directories, where Debian puts some
// daemons). When it is missing, the error names the Debian package that provides it.
func LookPath(program, debianPackage string) (string, error) {
	if p, err := exec.LookPath(program); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		p := filepath.Join(dir, program)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: %s not found; install the Debian package %s (apt-get install -y %s, or run `make test`, which installs it)",
		ErrNotInstalled, program, debianPackage, debianPackage)
}

// RequireProgram is LookPath for tests: a missing program fails the test (it never skips,
// because a skipped test would hide a missing dependency).
func RequireProgram(t testing.TB, program, debianPackage string) string {
	t.Helper()
	p, err := LookPath(program, debianPackage)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Process is a running child process whose output goes to a log file.
type Process struct {
	Name    string // short name used in logs, e.g. "sipp-uas"
	LogPath string // combined stdout and stderr

	cmd      *exec.Cmd
	logFile  *os.File
	done     chan struct{}
	waitErr  error
	stopOnce sync.Once
}

// Spec describes a process to start.
type Spec struct {
	Name string   // short name for logs
	Path string   // program path
	Args []string // arguments
	Dir  string   // working directory (default: a fresh temp dir)
	Env  []string // extra environment variables
	// MaxLifetime bounds how long the process may run: it is killed after that even if
	// nobody stops it. Zero means 5 minutes.
	MaxLifetime time.Duration
	// LogFilter, if set, rewrites each chunk of output before it reaches the log (used to
	// strip baresip's once-per-frame status line).
	LogFilter func([]byte) []byte
}

// Start runs spec as a child of the test. The process is stopped (SIGTERM, then SIGKILL)
// in t.Cleanup, and its log is printed if the test failed.
func Start(t testing.TB, spec Spec) *Process {
	t.Helper()
	p, err := StartProcess(spec, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.Stop()
		if t.Failed() {
			t.Logf("---- log of %s (%s) ----\n%s", p.Name, strings.Join(p.cmd.Args, " "), p.Tail(16<<10))
		}
	})
	return p
}

// StartProcess is Start without a testing.TB: the caller must call Stop. logDir holds the
// log file (and is the working directory when spec.Dir is empty).
func StartProcess(spec Spec, logDir string) (*Process, error) {
	if spec.Name == "" {
		spec.Name = filepath.Base(spec.Path)
	}
	if spec.MaxLifetime == 0 {
		spec.MaxLifetime = 5 * time.Minute
	}
	logPath := filepath.Join(logDir, spec.Name+".log")
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("peer: %s: %w", spec.Name, err)
	}
	cmd := exec.Command(spec.Path, spec.Args...)
	cmd.Dir = spec.Dir
	if cmd.Dir == "" {
		cmd.Dir = logDir
	}
	cmd.Env = append(os.Environ(), spec.Env...)
	var out io.Writer = lf
	if spec.LogFilter != nil {
		out = filterWriter{w: lf, f: spec.LogFilter}
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Stdin = nil
	// Own process group, so a daemon's workers can be reaped with it; and SIGKILL if the
	// test binary itself dies before Stop runs.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("peer: start %s: %w", spec.Name, err)
	}
	p := &Process{Name: spec.Name, LogPath: logPath, cmd: cmd, logFile: lf, done: make(chan struct{})}
	go func() {
		timer := time.NewTimer(spec.MaxLifetime)
		defer timer.Stop()
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		select {
		case err := <-exited:
			p.waitErr = err
		case <-timer.C:
			p.signal(syscall.SIGKILL)
			p.waitErr = fmt.Errorf("peer: %s killed after max lifetime %v: %w", spec.Name, spec.MaxLifetime, <-exited)
		}
		lf.Close()
		close(p.done)
	}()
	return p, nil
}

// PID is the process ID.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Wait waits for the process to exit or ctx to end. It returns the exit error (an
// *exec.ExitError for a non-zero status).
func (p *Process) Wait(ctx context.Context) error {
	select {
	case <-p.done:
		return p.waitErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ExitCode is the process's exit code once it has exited, or -1.
func (p *Process) ExitCode() int {
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	default:
		return -1
	}
}

// Signal sends sig to the process (by its own PID).
func (p *Process) Signal(sig syscall.Signal) error {
	select {
	case <-p.done:
		return os.ErrProcessDone
	default:
	}
	return p.cmd.Process.Signal(sig)
}

func (p *Process) signal(sig syscall.Signal) {
	// The process by its PID, then its group (negative PID) for any workers it forked.
	_ = p.cmd.Process.Signal(sig)
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
}

// Stop terminates the process: SIGTERM, then SIGKILL after 3 seconds. It waits for the
// process to exit and is safe to call more than once.
func (p *Process) Stop() error {
	p.stopOnce.Do(func() {
		select {
		case <-p.done:
			// Reap any workers a daemon left behind in its group.
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			return
		default:
		}
		p.signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(3 * time.Second):
			p.signal(syscall.SIGKILL)
			<-p.done
		}
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	})
	<-p.done
	return nil
}

// Log returns the whole log so far.
func (p *Process) Log() string {
	b, _ := os.ReadFile(p.LogPath)
	return string(b)
}

// Tail returns at most the last n bytes of the log.
func (p *Process) Tail(n int) string {
	b, _ := os.ReadFile(p.LogPath)
	if len(b) > n {
		b = append([]byte("...\n"), b[len(b)-n:]...)
	}
	return string(b)
}

// WaitLog waits until the log contains substr, the process exits, or ctx ends.
func (p *Process) WaitLog(ctx context.Context, substr string) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if b, _ := os.ReadFile(p.LogPath); bytes.Contains(b, []byte(substr)) {
			return nil
		}
		select {
		case <-p.done:
			if b, _ := os.ReadFile(p.LogPath); bytes.Contains(b, []byte(substr)) {
				return nil
			}
			return fmt.Errorf("peer: %s exited before logging %q: %v", p.Name, substr, p.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("peer: %s: waiting for %q: %w", p.Name, substr, ctx.Err())
		case <-tick.C:
		}
	}
}

type filterWriter struct {
	w io.Writer
	f func([]byte) []byte
}

func (fw filterWriter) Write(b []byte) (int, error) {
	if _, err := fw.w.Write(fw.f(b)); err != nil {
		return 0, err
	}
	return len(b), nil
}
