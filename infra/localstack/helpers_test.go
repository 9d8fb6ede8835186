package localstack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	code := m.Run()
	stopSharedDynamoDB()
	os.Exit(code)
}

// logBuffer collects a stack's output and shows it when the test fails.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// startStack starts a stack for a testdata template on free ports and closes it at the end.
func startStack(tb testing.TB, template string, mutate func(*Config)) (*Stack, *logBuffer) {
	tb.Helper()
	logs := &logBuffer{}
	cfg := Config{
		TemplatePath: filepath.Join("testdata", template),
		HTTPAddr:     "127.0.0.1:0",
		InvokeAddr:   "127.0.0.1:0",
		Log:          logs,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := Start(ctx, cfg)
	if err != nil {
		tb.Fatalf("Start: %v\n%s", err, logs)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
		if tb.Failed() {
			tb.Logf("stack output:\n%s", logs)
		}
	})
	return s, logs
}

// echo is what echofn answers with.
type echo struct {
	PID       int               `json:"pid"`
	RequestID string            `json:"requestId"`
	Deadline  time.Time         `json:"deadline"`
	Env       map[string]string `json:"env"`
	Event     json.RawMessage   `json:"event"`
}

// invokeEcho invokes echofn directly and decodes its echo; a function error stops the test.
func invokeEcho(tb testing.TB, s *Stack, fn string, payload string) (echo, *Invocation) {
	tb.Helper()
	inv, err := s.InvokeDetailed(context.Background(), fn, []byte(payload), InvokeOptions{})
	if err != nil {
		tb.Fatalf("invoke %s: %v", fn, err)
	}
	if inv.Error != nil {
		tb.Fatalf("invoke %s: function error %s: %s", fn, inv.Error.Type, inv.Error.Message)
	}
	return decodeEcho(tb, inv.Result), inv
}

func decodeEcho(tb testing.TB, result []byte) echo {
	tb.Helper()
	var resp struct {
		Body string `json:"body"`
	}
	if err := json.Unmarshal(result, &resp); err != nil {
		tb.Fatalf("decode response %s: %v", result, err)
	}
	var e echo
	if err := json.Unmarshal([]byte(resp.Body), &e); err != nil {
		tb.Fatalf("decode echo %s: %v", resp.Body, err)
	}
	return e
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitGone(tb testing.TB, pid int) {
	tb.Helper()
	waitFor(tb, 5*time.Second, fmt.Sprintf("process %d to exit", pid), func() bool { return !processAlive(pid) })
}

// do sends a request and returns the response with its body read.
func do(tb testing.TB, req *http.Request) (*http.Response, []byte) {
	tb.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read body: %v", err)
	}
	return resp, body
}

func newRequest(tb testing.TB, method, url string, body io.Reader) *http.Request {
	tb.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		tb.Fatal(err)
	}
	return req
}

func moduleRoot(tb testing.TB) string {
	tb.Helper()
	root, err := FindModuleRoot(".")
	if err != nil {
		tb.Fatal(err)
	}
	return root
}

// The DynamoDB Local the tests share: the one in AWS_ENDPOINT_URL_DYNAMODB (make test starts it),
// or one started here on a free port.
var shared struct {
	once     sync.Once
	endpoint string
	proc     *Process
	skip     string
}

func dynamoEndpoint(tb testing.TB) string {
	tb.Helper()
	shared.once.Do(func() {
		if ep := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"); ep != "" {
			shared.endpoint = ep
			return
		}
		if reason := emulatorSkipReason(moduleRootOrEmpty(), "java"); reason != "" {
			shared.skip = reason
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		p, err := StartDynamoDBLocal(ctx, EmulatorOptions{NodeModules: filepath.Join(moduleRootOrEmpty(), "node_modules")})
		if err != nil {
			shared.skip = "could not start DynamoDB Local: " + err.Error()
			return
		}
		shared.proc, shared.endpoint = p, p.URL
	})
	if shared.skip != "" {
		tb.Skip(shared.skip)
	}
	return shared.endpoint
}

func stopSharedDynamoDB() {
	if shared.proc != nil {
		_ = shared.proc.Stop()
	}
}

func moduleRootOrEmpty() string {
	root, _ := FindModuleRoot(".")
	return root
}

// emulatorSkipReason says why an emulator test cannot run here ("" when it can): tools missing,
// or npm packages not installed.
func emulatorSkipReason(root, tool string) string {
	if _, err := exec.LookPath(tool); err != nil {
		return fmt.Sprintf("%s is not installed; emulator tests need it (make test runs them)", tool)
	}
	pkg := map[string]string{"java": "amplify-dynamodb-simulator", "node": "aws-ses-v2-local"}[tool]
	if _, err := os.Stat(filepath.Join(root, "node_modules", pkg)); err != nil {
		return fmt.Sprintf("node_modules/%s is missing: run npm ci", pkg)
	}
	return ""
}

func uniquePrefix(tb testing.TB) string {
	name := strings.NewReplacer("/", "-", " ", "-").Replace(tb.Name())
	return fmt.Sprintf("%s-%d-", name, time.Now().UnixNano()%1e9)
}
