package localstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// DefaultConcurrency is how many execution environments a function may have at once unless the
// template reserves concurrency or Config says otherwise.
const DefaultConcurrency = 10

var (
	// ErrClosed is returned for invocations of a stack being closed.
	ErrClosed = errors.New("localstack: stack closed")
	// ErrRequestTooLarge is returned for a payload over Lambda's 6 MB limit, which Lambda rejects
	// before running the function.
	ErrRequestTooLarge = errors.New("localstack: request payload exceeds 6 MB")
	// ErrUnknownFunction is returned for a logical id the stack does not run.
	ErrUnknownFunction = errors.New("localstack: no such function")
)

// Invocation is what one invoke did, for callers that measure (benchmarks, tests).
type Invocation struct {
	RequestID string
	Result    []byte         // the function's response, when it succeeded
	Error     *FunctionError // the error result, when it did not
	// Cold is true when the invocation started a new worker; InitDuration is then the time from
	// exec to the runtime's first /next, as Lambda's Init Duration.
	Cold         bool
	InitDuration time.Duration
	Duration     time.Duration // from hand-over to the runtime until its result
}

// InvokeOptions carry per-invocation context a caller may set.
type InvokeOptions struct {
	// ClientContext is the JSON passed as Lambda-Runtime-Client-Context.
	ClientContext string
}

// FunctionStats describe a function's workers since the stack started.
type FunctionStats struct {
	Invocations    int
	ColdStarts     []time.Duration // each worker's init duration, in start order
	Workers        int             // alive now
	MaxConcurrency int             // most invocations running at once
	Replaced       int             // workers killed after a timeout, crash or init failure
}

// functionPool runs one function's workers: started on demand up to limit, reused while warm,
// replaced when they time out or crash, like Lambda's execution environments.
type functionPool struct {
	fn        *Function
	binary    string
	env       []string
	limit     int
	arn       string
	logs      *syncWriter
	logPrefix string

	slots   chan struct{} // one per invocation in flight, up to limit
	closing chan struct{}
	wg      sync.WaitGroup // invocations in flight

	mu      sync.Mutex
	closed  bool
	idle    []*worker // most recently used last: it is taken first, as warm as can be
	workers map[*worker]struct{}
	retired map[*worker]bool // busy workers to stop when they finish (recycle)
	stats   FunctionStats
	running int
}

func newFunctionPool(fn *Function, binary string, env []string, limit int, arn string, logs *syncWriter, prefix string) *functionPool {
	return &functionPool{
		fn: fn, binary: binary, env: env, limit: limit, arn: arn, logs: logs, logPrefix: prefix,
		slots:   make(chan struct{}, limit),
		closing: make(chan struct{}),
		workers: map[*worker]struct{}{},
	}
}

func (p *functionPool) invoke(ctx context.Context, payload []byte, opts InvokeOptions) (*Invocation, error) {
	if len(payload) > MaxPayloadSize {
		return nil, fmt.Errorf("invoke %s: %w", p.fn.LogicalID, ErrRequestTooLarge)
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	p.wg.Add(1)
	p.mu.Unlock()
	defer p.wg.Done()

	// Past the limit an invocation waits for a slot rather than being throttled: local callers
	// (tests, a browser) would rather be slow than see 429s Lambda would only send at scale.
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-p.closing:
		return nil, ErrClosed
	}
	defer func() { <-p.slots }()
	p.setRunning(+1)
	defer p.setRunning(-1)

	inv := &invocation{
		id:            newUUID(),
		payload:       payload,
		functionARN:   p.arn,
		traceID:       newTraceID(),
		clientContext: opts.ClientContext,
		done:          make(chan invokeResult, 1),
	}
	// A warm worker can die between invocations (aws-lambda-go exits right after reporting a
	// panic). The invocation never reached it, so it is run again on a fresh worker, once.
	for attempt := 0; ; attempt++ {
		w, cold, err := p.checkout()
		if err != nil {
			return nil, fmt.Errorf("invoke %s: %w", p.fn.LogicalID, err)
		}
		out, retry, err := p.run(w, cold, inv)
		if retry && attempt == 0 {
			continue
		}
		if err != nil {
			return nil, err
		}
		if retry { // the fresh worker died before taking it too
			out = &Invocation{RequestID: inv.id, Error: p.exitError(inv, w)}
		}
		p.mu.Lock()
		p.stats.Invocations++
		p.mu.Unlock()
		p.report(out)
		return out, nil
	}
}

// run hands inv to w and waits for its result. retry is true when w died before taking it.
func (p *functionPool) run(w *worker, cold bool, inv *invocation) (out *Invocation, retry bool, err error) {
	out = &Invocation{RequestID: inv.id, Cold: cold}
	if cold {
		t := time.NewTimer(initTimeout)
		defer t.Stop()
		select {
		case <-w.ready:
			out.InitDuration = w.initDuration
			p.mu.Lock()
			p.stats.ColdStarts = append(p.stats.ColdStarts, w.initDuration)
			p.mu.Unlock()
		case <-w.initFailed:
			p.discard(w)
			out.Error = w.initError
			return out, false, nil
		case <-w.exited:
			p.discard(w)
			out.Error = p.exitError(inv, w)
			return out, false, nil
		case <-t.C:
			p.discard(w)
			out.Error = newFunctionError("Sandbox.Timedout",
				fmt.Sprintf("RequestId: %s Error: Runtime did not start polling for invocations within %s", inv.id, initTimeout))
			return out, false, nil
		case <-p.closing:
			p.discard(w)
			return nil, false, ErrClosed
		}
	}

	inv.deadline = time.Now().Add(p.fn.Timeout)
	handoff := time.NewTimer(initTimeout)
	defer handoff.Stop()
	select {
	case w.invocations <- inv:
	case <-w.exited:
		p.discard(w)
		return nil, true, nil
	case <-handoff.C:
		// A warm runtime that never polls again is as good as dead.
		p.discard(w)
		return nil, true, nil
	case <-p.closing:
		p.discard(w)
		return nil, false, ErrClosed
	}
	started := time.Now()

	timer := time.NewTimer(time.Until(inv.deadline))
	defer timer.Stop()
	select {
	case r := <-inv.done:
		out.Result, out.Error = r.payload, r.ferr
		p.checkin(w)
	case <-w.exited:
		p.discard(w)
		// A panic is reported before the process exits; prefer the report.
		select {
		case r := <-inv.done:
			out.Result, out.Error = r.payload, r.ferr
		default:
			out.Error = p.exitError(inv, w)
		}
	case <-timer.C:
		p.discard(w)
		select {
		case r := <-inv.done: // it made it after all
			out.Result, out.Error = r.payload, r.ferr
		default:
			out.Error = newFunctionError("Sandbox.Timedout",
				fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", inv.id, p.fn.Timeout.Seconds()))
		}
	case <-p.closing:
		p.discard(w)
		return nil, false, ErrClosed
	}
	out.Duration = time.Since(started)
	return out, false, nil
}

func (p *functionPool) exitError(inv *invocation, w *worker) *FunctionError {
	return newFunctionError("Runtime.ExitError",
		fmt.Sprintf("RequestId: %s Error: Runtime exited with error: %s", inv.id, w.exitDescription()))
}

// checkout returns an idle worker, or starts one.
func (p *functionPool) checkout() (*worker, bool, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, false, ErrClosed
	}
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return w, false, nil
	}
	p.mu.Unlock()

	w, err := p.startWorker()
	if err != nil {
		return nil, false, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		go w.kill()
		return nil, false, ErrClosed
	}
	p.workers[w] = struct{}{}
	return w, true, nil
}

// checkin makes w available again, unless it was retired while busy.
func (p *functionPool) checkin(w *worker) {
	p.mu.Lock()
	if _, ok := p.workers[w]; !ok {
		p.mu.Unlock()
		return
	}
	if p.retired[w] {
		delete(p.retired, w)
		delete(p.workers, w)
		p.mu.Unlock()
		w.kill()
		return
	}
	p.idle = append(p.idle, w)
	p.mu.Unlock()
}

// recycle retires every worker, as updating a Lambda function's configuration does: idle ones
// stop now, busy ones when they finish; the next invocations start fresh workers.
func (p *functionPool) recycle() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	if p.retired == nil {
		p.retired = map[*worker]bool{}
	}
	for w := range p.workers {
		p.retired[w] = true
	}
	for _, w := range idle {
		delete(p.workers, w)
		delete(p.retired, w)
	}
	p.mu.Unlock()
	for _, w := range idle {
		w.kill()
	}
}

// discard kills w and forgets it.
func (p *functionPool) discard(w *worker) {
	p.mu.Lock()
	if _, ok := p.workers[w]; ok {
		delete(p.workers, w)
		p.stats.Replaced++
	}
	for i, iw := range p.idle {
		if iw == w {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			break
		}
	}
	p.mu.Unlock()
	w.kill()
}

func (p *functionPool) setRunning(delta int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running += delta
	p.stats.MaxConcurrency = max(p.stats.MaxConcurrency, p.running)
}

func (p *functionPool) snapshot() FunctionStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.ColdStarts = append([]time.Duration(nil), p.stats.ColdStarts...)
	s.Workers = len(p.workers)
	return s
}

// close stops taking invocations, ends those in flight and kills every worker.
func (p *functionPool) close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.closing)
	p.mu.Unlock()

	p.wg.Wait() // in-flight invocations see closing and discard their workers

	p.mu.Lock()
	rest := make([]*worker, 0, len(p.workers))
	for w := range p.workers {
		rest = append(rest, w)
	}
	p.workers = map[*worker]struct{}{}
	p.idle = nil
	p.mu.Unlock()

	var wg sync.WaitGroup
	for _, w := range rest {
		wg.Go(w.kill)
	}
	wg.Wait()
}

// report writes Lambda's per-invocation platform line. Lambda only emits it when the system log
// level lets INFO through, so a template asking for WARN sees only failures, as deployed.
func (p *functionPool) report(inv *Invocation) {
	failed := inv.Error != nil && (strings.HasPrefix(inv.Error.Type, "Sandbox.") || strings.HasPrefix(inv.Error.Type, "Runtime."))
	level := p.fn.SystemLogLevel
	if !failed && p.fn.LogFormat == "JSON" && level != "" && level != "DEBUG" && level != "INFO" {
		return
	}
	status := "success"
	if inv.Error != nil {
		status = "error"
		if inv.Error.Type == "Sandbox.Timedout" {
			status = "timeout"
		}
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	if p.fn.LogFormat == "JSON" {
		metrics := map[string]any{"durationMs": ms(inv.Duration), "memorySizeMB": p.fn.MemorySize}
		if inv.Cold {
			metrics["initDurationMs"] = ms(inv.InitDuration)
		}
		rec := map[string]any{"requestId": inv.RequestID, "metrics": metrics, "status": status}
		if inv.Error != nil && status != "success" {
			rec["errorType"] = inv.Error.Type
		}
		line, _ := json.Marshal(map[string]any{
			"time": time.Now().UTC().Format(time.RFC3339Nano), "type": "platform.report", "record": rec,
		})
		p.logs.writeLine(p.logPrefix, line)
		return
	}
	line := fmt.Sprintf("REPORT RequestId: %s\tDuration: %.2f ms\tMemory Size: %d MB", inv.RequestID, ms(inv.Duration), p.fn.MemorySize)
	if inv.Cold {
		line += fmt.Sprintf("\tInit Duration: %.2f ms", ms(inv.InitDuration))
	}
	if status != "success" {
		line += "\tStatus: " + status
	}
	p.logs.writeLine(p.logPrefix, []byte(line))
}
