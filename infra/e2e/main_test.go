// Package e2e tests the service over HTTP against a local stack: the real function binaries
// under the local Lambda Runtime API, DynamoDB Local and the SES emulator (SPEC §3).
package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ipspc/referrals/infra/localstack"
	"github.com/ipspc/referrals/infra/seed"
)

// linkSecret is the stack's signing key, so tests can forge expired and foreign tokens.
const linkSecret = "e2e-link-secret-0123456789abcdefghijklmnopqrstuvwxyz"

var (
	stack      *localstack.Stack
	sesProxy   *proxy       // between the functions and the SES emulator, to cut it off
	sesURL     string       // the emulator itself, for reading /store
	logs       = &syncBuf{} // every function's output, for the no-patient-data check
	skipReason string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ddb, ses := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"), os.Getenv("AWS_ENDPOINT_URL_SESV2")
	if ddb == "" || ses == "" {
		skipReason = "set AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_SESV2 (make test does)"
		return m.Run()
	}
	sesURL = ses
	var err error
	if sesProxy, err = startProxy(ses); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: SES proxy:", err)
		return 1
	}
	defer sesProxy.Close()
	root, err := filepath.Abs("../..")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	stack, err = localstack.Start(ctx, localstack.Config{
		Root:        root,
		HTTPAddr:    "127.0.0.1:0",
		InvokeAddr:  "127.0.0.1:0",
		SESEndpoint: sesProxy.URL(),
		TablePrefix: "e2e-" + hex.EncodeToString(suffix) + "-",
		DropTables:  true,
		Secrets:     map[string]string{"LinkSecret": linkSecret},
		Concurrency: 10,
		Log:         logs,
		Seed: func(ctx context.Context, tables map[string]string) error {
			dir := filepath.Join(root, "infra", "directory")
			return seed.Directory(ctx, localstack.DynamoDBClient(ddb, localstack.DefaultRegion), tables["DirectoryTable"],
				filepath.Join(dir, "areas.json"), filepath.Join(dir, "demo-people.json"), filepath.Join("testdata", "directory.json"))
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: start local stack:", err)
		return 1
	}
	code := m.Run()
	if err := checkLogs(); err != nil && code == 0 && !testing.Short() && runAll() {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		code = 1
	}
	if err := stack.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: stop local stack:", err)
	}
	if code != 0 {
		fmt.Fprintf(os.Stderr, "--- function output (last 8 KiB; E2E_LOGS=FILE keeps all of it) ---\n%s\n", logs.tail(8<<10))
	}
	if path := os.Getenv("E2E_LOGS"); path != "" {
		if err := os.WriteFile(path, []byte(logs.String()), 0o600); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: write E2E_LOGS:", err)
		}
	}
	return code
}

// runAll reports whether the whole suite ran (no -run filter), so every function had its chance
// to log before the logs are checked for patient data.
func runAll() bool {
	f := flag.Lookup("test.run")
	return f == nil || f.Value.String() == ""
}

// requireStack skips a test when the emulators are not running.
func requireStack(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
}

// syncBuf collects function output from many goroutines.
type syncBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuf) tail(n int) string {
	s := b.String()
	return s[max(0, len(s)-n):]
}

// proxy is a TCP proxy that can refuse connections, to take SES away the way an outage does.
type proxy struct {
	ln      net.Listener
	target  string
	mu      sync.Mutex
	down    bool
	refused int // connections refused while down
	conns   map[net.Conn]bool
	hold    time.Duration // while set, new connections wait this long unanswered, then go through
	held    int           // connections held
}

func startProxy(targetURL string) (*proxy, error) {
	host := targetURL
	if u, err := urlHost(targetURL); err == nil {
		host = u
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{ln: ln, target: host, conns: map[net.Conn]bool{}}
	go p.serve()
	return p, nil
}

func (p *proxy) URL() string { return "http://" + p.ln.Addr().String() }

// SetDown refuses (closes at once) new connections and cuts existing ones while down.
func (p *proxy) SetDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for c := range p.conns {
			_ = c.Close()
		}
	}
}

// SetHold makes new connections wait d unanswered before they are forwarded (a slow SES: the
// request may still be delivered after the caller gave up); 0 ends it. Open connections are cut,
// so a kept-alive one does not slip past.
func (p *proxy) SetHold(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hold = d
	if d > 0 {
		for c := range p.conns {
			_ = c.Close()
		}
	}
}

// Held counts the connections held so far.
func (p *proxy) Held() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.held
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down, hold := p.down, p.hold
		switch {
		case hold > 0:
			p.held++
		case !down:
			p.conns[c] = true
		}
		p.mu.Unlock()
		if hold > 0 {
			go p.holdThenForward(c, hold)
			continue
		}
		if down {
			p.mu.Lock()
			p.refused++
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		go p.pipe(c)
	}
}

func (p *proxy) pipe(c net.Conn) {
	defer func() {
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
		_ = c.Close()
	}()
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
}

// holdThenForward forwards what the client wrote after hold, even if the client has given up
// by then, and waits for the answer (which goes nowhere), as a slow network would.
func (p *proxy) holdThenForward(c net.Conn, hold time.Duration) {
	defer c.Close()
	time.Sleep(hold)
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		return
	}
	defer up.Close()
	go func() { _, _ = io.Copy(up, c) }()
	answered := make(chan struct{})
	go func() { _, _ = io.Copy(c, up); close(answered) }()
	select {
	case <-answered:
	case <-time.After(15 * time.Second):
	}
}

// Refused counts the connections refused while down: proof that a client tried during an outage.
func (p *proxy) Refused() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refused
}

func (p *proxy) Close() { _ = p.ln.Close(); p.SetDown(true) }
