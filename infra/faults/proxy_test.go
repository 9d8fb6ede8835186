package faults

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// mode is what the fault proxy does with DynamoDB calls.
type mode int32

const (
	pass           mode = iota // forward to DynamoDB Local
	refuse                     // the port is closed: connections are refused, open ones cut
	hang                       // calls are held unanswered until the caller gives up or the mode changes (then dropped)
	throttle                   // every call gets DynamoDB's ThrottlingException
	throttleWrites             // transactions get ProvisionedThroughputExceededException (a hot caseload item)
)

func (m mode) String() string {
	return [...]string{"pass", "refuse", "hang", "throttle", "throttle-writes"}[m]
}

// DynamoDB's throttling errors in its JSON 1.0 protocol: the SDK retries both by itself, and
// knows the second by type, so the referrals store retries it too.
const (
	throttleBody    = `{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate exceeded"}`
	provisionedBody = `{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"Throughput exceeds the current capacity of your table or index."}`
)

// faultProxy is an HTTP reverse proxy in front of DynamoDB Local that can be switched to refuse
// connections (by closing its port, so clients see ECONNREFUSED as from a dead endpoint), to hang,
// or to throttle (HTTP 400 with DynamoDB's error body and x-amzn-ErrorType header).
type faultProxy struct {
	addr  string
	srv   *http.Server
	proxy *httputil.ReverseProxy

	mu     sync.Mutex
	mode   mode
	ln     net.Listener  // nil while refusing
	unhang chan struct{} // closed when the proxy leaves hang: held calls are then dropped
	conns  map[net.Conn]bool

	faulted atomic.Int64 // calls throttled or held
}

func startFaultProxy(target string) (*faultProxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &faultProxy{addr: ln.Addr().String(), ln: ln, conns: map[net.Conn]bool{}}
	p.proxy = &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(u)
		r.Out.Host = r.In.Host // the SigV4 signature covers the Host the client used
	}}
	p.srv = &http.Server{
		Handler:           p,
		ReadHeaderTimeout: 10 * time.Second,
		ConnState: func(c net.Conn, s http.ConnState) {
			p.mu.Lock()
			defer p.mu.Unlock()
			switch s {
			case http.StateNew:
				p.conns[c] = true
			case http.StateClosed, http.StateHijacked:
				delete(p.conns, c)
			}
		},
	}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// URL is the endpoint to give clients (AWS_ENDPOINT_URL_DYNAMODB).
func (p *faultProxy) URL() string { return "http://" + p.addr }

// Set switches the proxy's mode.
func (p *faultProxy) Set(m mode) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if m == p.mode {
		return nil
	}
	if p.mode == hang {
		close(p.unhang)
	}
	if m == hang {
		p.unhang = make(chan struct{})
	}
	switch {
	case m == refuse:
		// Close the port itself: a dead endpoint refuses connections, it does not accept them.
		if err := p.ln.Close(); err != nil {
			return err
		}
		p.ln = nil
		for c := range p.conns {
			_ = c.Close()
		}
	case p.mode == refuse:
		ln, err := net.Listen("tcp", p.addr) // Go sets SO_REUSEADDR: the port is ours again
		if err != nil {
			return fmt.Errorf("reopen %s: %w", p.addr, err)
		}
		p.ln = ln
		go func() { _ = p.srv.Serve(ln) }()
	}
	p.mode = m
	return nil
}

func (p *faultProxy) current() (mode, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mode, p.unhang
}

// Faulted returns how many calls the proxy has failed so far.
func (p *faultProxy) Faulted() int64 { return p.faulted.Load() }

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch m, unhang := p.current(); {
	case m == hang:
		// As a network that drops packets: a call held through the outage is lost, its
		// connection cut when the outage ends. Forwarding it late would need to know whether
		// its caller had given up, and the proxy cannot: Go's http.Transport (1.26) leaves the
		// connection of a cancelled request open, so r.Context() never says so.
		p.faulted.Add(1)
		select {
		case <-r.Context().Done():
		case <-unhang:
			panic(http.ErrAbortHandler) // closes the connection without a response
		}
	case m == throttle:
		p.throttled(w, "ThrottlingException", throttleBody)
	case m == throttleWrites && r.Header.Get("X-Amz-Target") == "DynamoDB_20120810.TransactWriteItems":
		p.throttled(w, "ProvisionedThroughputExceededException", provisionedBody)
	default:
		p.proxy.ServeHTTP(w, r)
	}
}

func (p *faultProxy) throttled(w http.ResponseWriter, errorType, body string) {
	n := p.faulted.Add(1)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("x-amzn-ErrorType", errorType)
	w.Header().Set("x-amzn-RequestId", fmt.Sprintf("faults-%d", n))
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write([]byte(body))
}

func (p *faultProxy) Close() {
	_ = p.srv.Close()
}
