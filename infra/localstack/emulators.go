package localstack

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Local credentials. DynamoDB Local keeps separate tables per access key and region unless started
// with -sharedDb (which we do); everything local still uses one pair so nothing depends on it.
const (
	LocalAccessKey = "local"
	LocalSecretKey = "local"
)

// EmulatorOptions say where and how to start an emulator.
type EmulatorOptions struct {
	// NodeModules is the node_modules directory holding amplify-dynamodb-simulator (whose
	// emulator/ has the DynamoDB Local jar) and aws-ses-v2-local.
	NodeModules string
	Host        string // default 127.0.0.1
	// Port to listen on; 0 picks a free one.
	Port int
	// PortEnv names the variable that sets Port, so a "port in use" error says what to change.
	PortEnv string
	// DBPath makes DynamoDB Local persist to this directory instead of keeping data in memory.
	DBPath string
	// Log receives the emulator's output, each line prefixed with its name; nil discards it (the
	// last lines still appear in start-up errors).
	Log io.Writer
	// StartTimeout bounds the wait until the emulator answers; default 60 s (a cold JVM is slow).
	StartTimeout time.Duration
	// Executable overrides the java or node binary found on PATH.
	Executable string
}

// Process is a running emulator.
type Process struct {
	Name string
	URL  string // http://host:port
	Port int

	cmd      *exec.Cmd
	exited   chan struct{}
	exitErr  error
	tail     *tailWriter
	stopOnce sync.Once
}

// PortInUseError is returned when an emulator's port is taken.
type PortInUseError struct {
	Port int
	Env  string
}

func (e *PortInUseError) Error() string {
	if e.Env == "" {
		return fmt.Sprintf("port %d is in use", e.Port)
	}
	return fmt.Sprintf("port %d is in use: set %s to a free port (or stop what is listening there)", e.Port, e.Env)
}

// CheckPort returns a PortInUseError naming env when host:port is taken, so a command can fail
// before starting anything.
func CheckPort(host string, port int, env string) error {
	_, err := reservePort(host, port, env)
	return err
}

// reservePort checks that host:port is free, choosing a free port for 0. The port is released
// again before the emulator binds it: a small race, but neither Java nor node can be handed a
// listening socket.
func reservePort(host string, port int, env string) (int, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		if port == 0 {
			return 0, fmt.Errorf("find a free port: %w", err)
		}
		return 0, &PortInUseError{Port: port, Env: env}
	}
	p := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		return 0, err
	}
	return p, nil
}

// StartDynamoDBLocal starts the official DynamoDB Local jar and waits until it answers ListTables.
func StartDynamoDBLocal(ctx context.Context, opts EmulatorOptions) (*Process, error) {
	opts = opts.withDefaults()
	dir := filepath.Join(opts.NodeModules, "amplify-dynamodb-simulator", "emulator")
	jar := filepath.Join(dir, "DynamoDBLocal.jar")
	if _, err := os.Stat(jar); err != nil {
		return nil, fmt.Errorf("DynamoDB Local: %s not found (run npm ci): %w", jar, err)
	}
	java := opts.Executable
	if java == "" {
		var err error
		if java, err = findJava(); err != nil {
			return nil, fmt.Errorf("DynamoDB Local needs Java 17 or later: %w", err)
		}
	}
	port, err := reservePort(opts.Host, opts.Port, opts.PortEnv)
	if err != nil {
		return nil, fmt.Errorf("DynamoDB Local: %w", err)
	}
	// -sharedDb: one set of tables whatever the caller's credentials and region, so an aws CLI
	// with a developer's own profile sees the same tables as the functions.
	// DynamoDB Local has no bind-address flag and listens on every interface; a small launcher
	// (Java's single-file source mode, JDK 17) binds its Jetty connector to opts.Host instead.
	launcher, err := writeLauncher()
	if err != nil {
		return nil, fmt.Errorf("DynamoDB Local: %w", err)
	}
	lib := filepath.Join(dir, "DynamoDBLocal_lib")
	// -XX:TieredStopAtLevel=1: the JIT's first tier only. A local DynamoDB lives for a test run,
	// and in its first minutes the optimising compiler (C2) used about half the JVM's CPU in make
	// bench's throughput run, more than the faster code it makes saves; with C1 alone DynamoDB
	// Local spent about a third less CPU per referral there and 11–16% less over the dynamo
	// adapter's tests (docs/decisions.md, "Local stack speed").
	args := []string{"-XX:TieredStopAtLevel=1", "-Djava.library.path=" + lib, "-cp", jar + string(os.PathListSeparator) + filepath.Join(lib, "*"),
		launcher, opts.Host, "-port", strconv.Itoa(port), "-sharedDb", "-disableTelemetry"}
	if opts.DBPath != "" {
		if err := os.MkdirAll(opts.DBPath, 0o755); err != nil {
			return nil, fmt.Errorf("DynamoDB Local: -dbPath: %w", err)
		}
		abs, err := filepath.Abs(opts.DBPath)
		if err != nil {
			return nil, err
		}
		args = append(args, "-dbPath", abs)
	} else {
		args = append(args, "-inMemory")
	}
	cmd := exec.Command(java, args...)
	cmd.Dir = dir
	url := "http://" + net.JoinHostPort(opts.Host, strconv.Itoa(port))
	client := DynamoDBClient(url, DefaultRegion)
	ready := func(ctx context.Context) error {
		// One attempt per poll: the loop is the retry, without SDK backoff in between.
		_, err := client.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)},
			func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
		return err
	}
	return startProcess(ctx, "DynamoDB", cmd, url, port, opts, ready)
}

//go:embed LoopbackDynamoDBLocal.java
var loopbackLauncher []byte

// writeLauncher writes the bind-address launcher where java can compile and run it: one directory
// per launcher content (not per start), written atomically so concurrent stacks share it.
func writeLauncher() (string, error) {
	sum := sha256.Sum256(loopbackLauncher)
	dir := filepath.Join(os.TempDir(), "dynamodb-local-launcher-"+hex.EncodeToString(sum[:6]))
	p := filepath.Join(dir, "LoopbackDynamoDBLocal.java")
	if b, err := os.ReadFile(p); err == nil && bytes.Equal(b, loopbackLauncher) {
		return p, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, "launcher-*.tmp")
	if err != nil {
		return "", err
	}
	_, err = tmp.Write(loopbackLauncher)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
	}
	return p, err
}

// StartSES starts aws-ses-v2-local and waits until GET /store answers.
func StartSES(ctx context.Context, opts EmulatorOptions) (*Process, error) {
	opts = opts.withDefaults()
	cli := filepath.Join(opts.NodeModules, "aws-ses-v2-local", "dist", "cli.js")
	if _, err := os.Stat(cli); err != nil {
		return nil, fmt.Errorf("SES emulator: %s not found (run npm ci): %w", cli, err)
	}
	node := opts.Executable
	if node == "" {
		var err error
		if node, err = exec.LookPath("node"); err != nil {
			return nil, fmt.Errorf("SES emulator needs Node.js: %w", err)
		}
	}
	port, err := reservePort(opts.Host, opts.Port, opts.PortEnv)
	if err != nil {
		return nil, fmt.Errorf("SES emulator: %w", err)
	}
	cmd := exec.Command(node, cli, "--port", strconv.Itoa(port), "--host", opts.Host)
	cmd.Dir = filepath.Dir(cli)
	url := "http://" + net.JoinHostPort(opts.Host, strconv.Itoa(port))
	ready := func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/store", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET /store: %s", resp.Status)
		}
		return nil
	}
	return startProcess(ctx, "SES", cmd, url, port, opts, ready)
}

func (o EmulatorOptions) withDefaults() EmulatorOptions {
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 60 * time.Second
	}
	return o
}

func findJava() (string, error) {
	if home := os.Getenv("JAVA_HOME"); home != "" {
		if p := filepath.Join(home, "bin", "java"); fileExists(p) {
			return p, nil
		}
	}
	return exec.LookPath("java")
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// startProcess runs cmd in its own process group and polls ready until it succeeds, the process
// exits, or the timeout passes.
func startProcess(ctx context.Context, name string, cmd *exec.Cmd, url string, port int, opts EmulatorOptions,
	ready func(context.Context) error) (*Process, error) {
	p := &Process{Name: name, URL: url, Port: port, cmd: cmd, exited: make(chan struct{}), tail: &tailWriter{max: 20}}
	var out io.Writer = p.tail
	var lw *lineWriter
	if opts.Log != nil {
		lw = newLineWriter(&syncWriter{w: opts.Log}, fmt.Sprintf("%-9s ", name))
		out = io.MultiWriter(p.tail, lw)
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = time.Second
	if err := startInGroup(cmd); err != nil {
		return nil, fmt.Errorf("start %s emulator: %w", name, err)
	}
	go func() {
		p.exitErr = cmd.Wait()
		if lw != nil {
			_ = lw.Close()
		}
		close(p.exited)
	}()

	deadline := time.Now().Add(opts.StartTimeout)
	for {
		attempt, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := ready(attempt)
		cancel()
		if err == nil {
			return p, nil
		}
		select {
		case <-p.exited:
			return nil, fmt.Errorf("%s emulator exited during start-up (%v); its last output:\n%s", name, p.exitErr, p.tail)
		case <-ctx.Done():
			_ = p.Stop()
			return nil, fmt.Errorf("start %s emulator: %w", name, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = p.Stop()
			return nil, fmt.Errorf("%s emulator did not answer on %s within %s (%v); its last output:\n%s",
				name, url, opts.StartTimeout, err, p.tail)
		}
	}
}

// Stop terminates the emulator and everything it started, and waits until they are gone. It is
// safe to call more than once.
func (p *Process) Stop() error {
	p.stopOnce.Do(func() { stopGroup(p.cmd, p.exited, 5*time.Second) })
	return nil
}

// Done is closed when the emulator has exited, expectedly or not.
func (p *Process) Done() <-chan struct{} { return p.exited }

// Pid is the emulator's process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// tailWriter keeps the last lines written, for error messages.
type tailWriter struct {
	mu    sync.Mutex
	max   int
	lines []string
	part  string
}

func (t *tailWriter) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.part + string(b)
	parts := strings.Split(s, "\n")
	t.part = parts[len(parts)-1]
	t.lines = append(t.lines, parts[:len(parts)-1]...)
	if len(t.lines) > t.max {
		t.lines = t.lines[len(t.lines)-t.max:]
	}
	return len(b), nil
}

func (t *tailWriter) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(append(append([]string(nil), t.lines...), t.part), "\n")
}

// DynamoDBClient returns a DynamoDB client for a local endpoint with the local credentials. It is
// built without LoadDefaultConfig so a developer's profile or environment cannot redirect it.
func DynamoDBClient(endpoint, region string) *dynamodb.Client {
	return dynamodb.NewFromConfig(LocalAWSConfig(region), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	})
}

// LocalAWSConfig is an aws.Config with the local credentials and region, for clients of local
// emulators (set BaseEndpoint on the client).
func LocalAWSConfig(region string) aws.Config {
	if region == "" {
		region = DefaultRegion
	}
	return aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(LocalAccessKey, LocalSecretKey, ""),
	}
}
