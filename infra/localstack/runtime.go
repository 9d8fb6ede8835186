package localstack

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Lambda's limits that change how a function behaves, so they are kept locally.
const (
	// MaxPayloadSize is Lambda's limit for a synchronous request or response payload.
	MaxPayloadSize = 6 * 1024 * 1024
	// initTimeout is how long Lambda gives a runtime to reach its first /next.
	initTimeout = 10 * time.Second
	// shutdownGrace is how long a runtime that asked for SIGTERM gets before SIGKILL, as in Lambda.
	shutdownGrace = 500 * time.Millisecond
)

// FunctionError is an error result: the function returned an error, panicked, crashed, timed out
// or answered with something Lambda rejects. Payload is the error document Lambda returns to the
// caller (the Invoke API body with X-Amz-Function-Error: Unhandled).
type FunctionError struct {
	Type    string
	Message string
	Payload []byte
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// newFunctionError makes an error result the emulator itself raises (timeouts, crashes).
func newFunctionError(typ, msg string) *FunctionError {
	payload, _ := json.Marshal(map[string]string{"errorType": typ, "errorMessage": msg})
	return &FunctionError{Type: typ, Message: msg, Payload: payload}
}

// parseFunctionError reads an error document a runtime posted.
func parseFunctionError(body []byte, headerType string) *FunctionError {
	var doc struct {
		Type    string `json:"errorType"`
		Message string `json:"errorMessage"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || (doc.Type == "" && doc.Message == "") {
		typ := headerType
		if typ == "" {
			typ = "Runtime.Unknown"
		}
		// Lambda wraps a non-JSON error body the same way.
		return newFunctionError(typ, string(body))
	}
	if doc.Type == "" {
		doc.Type = headerType
	}
	return &FunctionError{Type: doc.Type, Message: doc.Message, Payload: body}
}

// invocation is one request travelling from an invoker through a worker's /next to its
// /response or /error.
type invocation struct {
	id            string
	payload       []byte
	functionARN   string
	traceID       string
	clientContext string
	deadline      time.Time
	done          chan invokeResult // buffered: the worker never blocks on a gone invoker
	once          sync.Once
}

type invokeResult struct {
	payload []byte
	ferr    *FunctionError
}

func (inv *invocation) complete(r invokeResult) {
	inv.once.Do(func() { inv.done <- r })
}

// worker is one execution environment: a running bootstrap and the Runtime API it polls.
type worker struct {
	pool    *functionPool
	cmd     *exec.Cmd
	srv     *http.Server
	addr    string
	started time.Time

	invocations chan *invocation // unbuffered: a send completes when /next takes it
	ready       chan struct{}    // closed at the first /next: initialisation is over
	exited      chan struct{}    // closed when the process has exited
	initFailed  chan struct{}    // closed when the runtime posts /init/error
	stopping    chan struct{}    // closed when we start killing it

	readyOnce, initFailOnce, stopOnce sync.Once
	initDuration                      time.Duration
	initError                         *FunctionError
	exitErr                           error

	mu         sync.Mutex
	current    *invocation
	extensions bool // the runtime registered an extension, so it wants SIGTERM before SIGKILL
	served     int
	stdout     *lineWriter
	stderr     *lineWriter
}

// startWorker starts a bootstrap process with its own Runtime API endpoint.
func (p *functionPool) startWorker() (*worker, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the runtime API: %w", err)
	}
	w := &worker{
		pool:        p,
		addr:        ln.Addr().String(),
		invocations: make(chan *invocation),
		ready:       make(chan struct{}),
		exited:      make(chan struct{}),
		initFailed:  make(chan struct{}),
		stopping:    make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", w.handleNext)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", w.handleResponse)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", w.handleError)
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", w.handleInitError)
	mux.HandleFunc("POST /2020-01-01/extension/register", w.handleExtensionRegister)
	mux.HandleFunc("GET /2020-01-01/extension/event/next", w.handleExtensionNext)
	// No timeouts: /next is a long poll that lasts as long as the worker is idle.
	w.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = w.srv.Serve(ln) }()

	cmd := exec.Command(p.binary)
	cmd.Dir = filepath.Dir(p.binary) // LAMBDA_TASK_ROOT
	cmd.Env = append(p.env,
		"AWS_LAMBDA_RUNTIME_API="+w.addr,
		"AWS_LAMBDA_LOG_STREAM_NAME="+logStreamName(),
	)
	w.stdout = newLineWriter(p.logs, p.logPrefix)
	w.stderr = newLineWriter(p.logs, p.logPrefix)
	cmd.Stdout, cmd.Stderr = w.stdout, w.stderr
	// Output copying must not outlive the process by much if something inherited its pipes.
	cmd.WaitDelay = time.Second
	w.cmd = cmd
	// Under the lock: the runtime's first /next arrives on another goroutine, ordered after this
	// only through the child process, which the race detector cannot see.
	w.mu.Lock()
	w.started = time.Now()
	w.mu.Unlock()
	if err := startInGroup(cmd); err != nil {
		_ = w.srv.Close()
		return nil, fmt.Errorf("start %s: %w", p.binary, err)
	}
	go func() {
		w.exitErr = cmd.Wait()
		_ = w.stdout.Close()
		_ = w.stderr.Close()
		close(w.exited)
		_ = w.srv.Close()
	}()
	return w, nil
}

func logStreamName() string {
	return time.Now().UTC().Format("2006/01/02") + "/[$LATEST]" + randomHex(16)
}

// kill ends the worker (SIGTERM first when the runtime asked for it, as Lambda does) and waits
// until the process is gone.
func (w *worker) kill() {
	w.stopOnce.Do(func() { close(w.stopping) })
	w.mu.Lock()
	grace := time.Duration(0)
	if w.extensions {
		grace = shutdownGrace
	}
	w.mu.Unlock()
	stopGroup(w.cmd, w.exited, grace)
	_ = w.srv.Close()
}

func (w *worker) pid() int { return w.cmd.Process.Pid }

// exitDescription says how the process ended, as Lambda reports it.
func (w *worker) exitDescription() string {
	var ee *exec.ExitError
	if errors.As(w.exitErr, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "signal: " + ws.Signal().String()
		}
		return "exit status " + strconv.Itoa(ee.ExitCode())
	}
	if w.exitErr == nil {
		return "exit status 0"
	}
	return w.exitErr.Error()
}

func (w *worker) handleNext(rw http.ResponseWriter, r *http.Request) {
	w.readyOnce.Do(func() {
		w.mu.Lock()
		w.initDuration = time.Since(w.started)
		w.mu.Unlock()
		close(w.ready)
	})
	select {
	case inv := <-w.invocations:
		w.mu.Lock()
		w.current = inv
		w.served++
		w.mu.Unlock()
		h := rw.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", inv.functionARN)
		h.Set("Lambda-Runtime-Trace-Id", inv.traceID)
		if inv.clientContext != "" {
			h.Set("Lambda-Runtime-Client-Context", inv.clientContext)
		}
		h.Set("Content-Type", "application/json")
		rw.WriteHeader(http.StatusOK)
		_, _ = rw.Write(inv.payload)
	case <-w.stopping:
		// The process is being killed; answering would only start another loop iteration.
		rw.WriteHeader(http.StatusGone)
	case <-r.Context().Done():
	}
}

// takeCurrent returns the in-flight invocation if id names it, and forgets it: a second response
// for the same request is a runtime bug, answered as Lambda does.
func (w *worker) takeCurrent(id string) *invocation {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.current == nil || w.current.id != id {
		return nil
	}
	inv := w.current
	w.current = nil
	return inv
}

func runtimeAPIError(rw http.ResponseWriter, status int, typ, msg string) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	_ = json.NewEncoder(rw).Encode(map[string]string{"errorType": typ, "errorMessage": msg})
}

func accepted(rw http.ResponseWriter) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(rw, `{"status":"OK"}`)
}

func (w *worker) handleResponse(rw http.ResponseWriter, r *http.Request) {
	inv := w.takeCurrent(r.PathValue("id"))
	if inv == nil {
		runtimeAPIError(rw, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxPayloadSize+1))
	switch {
	case err != nil:
		inv.complete(invokeResult{ferr: newFunctionError("Runtime.ResponseError", "reading the response: "+err.Error())})
		runtimeAPIError(rw, http.StatusBadRequest, "InvalidResponse", err.Error())
		return
	case len(body) > MaxPayloadSize:
		inv.complete(invokeResult{ferr: newFunctionError("Function.ResponseSizeTooLarge",
			fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", MaxPayloadSize))})
		runtimeAPIError(rw, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "response too large")
		return
	}
	// aws-lambda-go reports a handler whose response reader failed half-way in trailers.
	if typ := r.Trailer.Get("Lambda-Runtime-Function-Error-Type"); typ != "" {
		doc, _ := base64.StdEncoding.DecodeString(r.Trailer.Get("Lambda-Runtime-Function-Error-Body"))
		inv.complete(invokeResult{ferr: parseFunctionError(doc, typ)})
		accepted(rw)
		return
	}
	inv.complete(invokeResult{payload: body})
	accepted(rw)
}

func (w *worker) handleError(rw http.ResponseWriter, r *http.Request) {
	inv := w.takeCurrent(r.PathValue("id"))
	if inv == nil {
		runtimeAPIError(rw, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, MaxPayloadSize))
	inv.complete(invokeResult{ferr: parseFunctionError(body, r.Header.Get("Lambda-Runtime-Function-Error-Type"))})
	accepted(rw)
}

func (w *worker) handleInitError(rw http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, MaxPayloadSize))
	w.initFailOnce.Do(func() {
		w.initError = parseFunctionError(body, r.Header.Get("Lambda-Runtime-Function-Error-Type"))
		close(w.initFailed)
	})
	accepted(rw)
}

// The Extensions API is only here because aws-lambda-go's WithEnableSIGTERM registers an extension
// to get SIGTERM before shutdown; it never asks for events.
func (w *worker) handleExtensionRegister(rw http.ResponseWriter, r *http.Request) {
	w.mu.Lock()
	w.extensions = true
	w.mu.Unlock()
	rw.Header().Set("Lambda-Extension-Identifier", newUUID())
	rw.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(rw).Encode(map[string]string{
		"functionName": w.pool.fn.LogicalID, "functionVersion": "$LATEST", "handler": w.pool.fn.Handler,
	})
}

func (w *worker) handleExtensionNext(rw http.ResponseWriter, r *http.Request) {
	select {
	case <-w.stopping:
		rw.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(rw).Encode(map[string]any{
			"eventType": "SHUTDOWN", "shutdownReason": "spindown",
			"deadlineMs": time.Now().Add(shutdownGrace).UnixMilli(),
		})
	case <-r.Context().Done():
	}
}

// newUUID returns a random (version 4) UUID, the form of Lambda request ids.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func randomHex(n int) string {
	b := make([]byte, n/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newTraceID returns an X-Ray trace header in the form Lambda passes to runtimes.
func newTraceID() string {
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", time.Now().Unix(), randomHex(24), randomHex(16))
}
