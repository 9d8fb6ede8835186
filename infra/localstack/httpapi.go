package localstack

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// MaxHTTPBodySize is API Gateway's request body limit.
const MaxHTTPBodySize = 10 * 1024 * 1024

// invoker runs a function; the Stack is one, tests may fake it.
type invoker interface {
	InvokeDetailed(ctx context.Context, functionLogicalID string, payload []byte, opts InvokeOptions) (*Invocation, error)
}

// httpAPI emulates an API Gateway HTTP API with Lambda proxy integrations, payload format 2.0.
type httpAPI struct {
	router  *router
	invoker invoker
	logger  *slog.Logger
	now     func() time.Time
}

// wireRequest is events.APIGatewayV2HTTPRequest as API Gateway sends it: the events type would
// always send an empty "authentication" object, which API Gateway only sends for mutual TLS.
type wireRequest struct {
	events.APIGatewayV2HTTPRequest
	RequestContext wireRequestContext `json:"requestContext"`
}

type wireRequestContext struct {
	events.APIGatewayV2HTTPRequestContext
	Authentication *events.APIGatewayV2HTTPRequestContextAuthentication `json:"authentication,omitempty"`
}

func writeGatewayError(w http.ResponseWriter, status int, msg, requestID string) {
	w.Header().Set("Content-Type", "application/json")
	if requestID != "" {
		w.Header().Set("Apigw-Requestid", requestID)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

// statusRecorder remembers the status written, for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// ServeHTTP answers one request and logs it in one line, as sam local start-api does.
func (a *httpAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	function := a.serve(rec, r)
	// The path only: query strings carry signed-link tokens, which are credentials (SPEC §8).
	a.logger.Info("request", "method", r.Method, "path", r.URL.EscapedPath(), "status", rec.status,
		"function", function, "ms", time.Since(start).Milliseconds())
}

// serve answers one request and returns the function that handled it ("" when none did).
func (a *httpAPI) serve(w http.ResponseWriter, r *http.Request) string {
	requestID := newGatewayRequestID()
	route, params, ok := a.router.match(r.Method, r.URL.EscapedPath())
	if !ok {
		writeGatewayError(w, http.StatusNotFound, "Not Found", requestID)
		return ""
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxHTTPBodySize))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeGatewayError(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large", requestID)
			return route.Function
		}
		writeGatewayError(w, http.StatusBadRequest, "Bad Request", requestID)
		return route.Function
	}

	event := a.buildEvent(r, route, params, body, requestID)
	payload, err := json.Marshal(event)
	if err != nil {
		writeGatewayError(w, http.StatusInternalServerError, "Internal Server Error", requestID)
		return route.Function
	}
	// The invocation outlives a client that hangs up, as it does behind API Gateway.
	inv, err := a.invoker.InvokeDetailed(context.WithoutCancel(r.Context()), route.Function, payload, InvokeOptions{})
	if err != nil {
		// Lambda refused the invocation (too large, stack closing): API Gateway answers 500.
		a.logger.Warn("invoke failed", "function", route.Function, "route", route.RouteKey(), "error", err)
		writeGatewayError(w, http.StatusInternalServerError, "Internal Server Error", requestID)
		return route.Function
	}
	if inv.Error != nil {
		// A function error or timeout is a 502 with a generic body; details stay in the logs.
		a.logger.Warn("function error", "function", route.Function, "route", route.RouteKey(),
			"errorType", inv.Error.Type, "errorMessage", inv.Error.Message)
		writeGatewayError(w, http.StatusBadGateway, "Internal Server Error", requestID)
		return route.Function
	}
	resp, err := parseV2Response(inv.Result)
	if err != nil {
		a.logger.Warn("malformed Lambda proxy response", "function", route.Function, "error", err)
		writeGatewayError(w, http.StatusBadGateway, "Internal Server Error", requestID)
		return route.Function
	}
	writeV2Response(w, resp, requestID)
	return route.Function
}

func (a *httpAPI) buildEvent(r *http.Request, route Route, params map[string]string, body []byte, requestID string) *wireRequest {
	now := a.now()
	headers := map[string]string{}
	for k, vs := range r.Header {
		headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	// Go keeps Host out of the header map; API Gateway passes it on, and adds forwarding headers.
	headers["host"] = r.Host
	sourceIP, _, _ := net.SplitHostPort(r.RemoteAddr)
	headers["x-forwarded-for"] = sourceIP
	headers["x-forwarded-proto"] = "http"
	if _, port, err := net.SplitHostPort(r.Host); err == nil {
		headers["x-forwarded-port"] = port
	}
	headers["x-amzn-trace-id"] = strings.Split(newTraceID(), ";")[0]

	// Cookies move from the header to their own list, one entry per cookie.
	var cookies []string
	if _, ok := headers["cookie"]; ok {
		delete(headers, "cookie")
		for _, line := range r.Header.Values("Cookie") {
			for part := range strings.SplitSeq(line, ";") {
				if part = strings.TrimSpace(part); part != "" {
					cookies = append(cookies, part)
				}
			}
		}
	}

	var query map[string]string
	if r.URL.RawQuery != "" {
		values, _ := url.ParseQuery(r.URL.RawQuery)
		query = make(map[string]string, len(values))
		for k, vs := range values {
			query[k] = strings.Join(vs, ",")
		}
	}

	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	prefix, _, _ := strings.Cut(host, ".")

	ev := &wireRequest{}
	ev.Version = "2.0"
	ev.RouteKey = route.RouteKey()
	ev.RawPath = r.URL.EscapedPath()
	ev.RawQueryString = r.URL.RawQuery
	ev.Cookies = cookies
	ev.Headers = headers
	ev.QueryStringParameters = query
	ev.PathParameters = params
	ev.RequestContext = wireRequestContext{APIGatewayV2HTTPRequestContext: events.APIGatewayV2HTTPRequestContext{
		RouteKey:     route.RouteKey(),
		AccountID:    DefaultAccountID,
		Stage:        "$default",
		RequestID:    requestID,
		APIID:        localAPIID,
		DomainName:   r.Host,
		DomainPrefix: prefix,
		Time:         now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
		TimeEpoch:    now.UnixMilli(),
		HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
			Method:    r.Method,
			Path:      r.URL.EscapedPath(),
			Protocol:  r.Proto,
			SourceIP:  sourceIP,
			UserAgent: r.UserAgent(),
		},
	}}
	if len(body) > 0 {
		if isTextContent(r.Header.Get("Content-Type")) && utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

// isTextContent reports whether API Gateway passes a body of this type as text rather than
// base64.
func isTextContent(contentType string) bool {
	if contentType == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	if strings.HasPrefix(mt, "text/") {
		return true
	}
	switch mt {
	// Not application/x-www-form-urlencoded: the real HTTP API base64-encodes form posts, and
	// the functions must be tried against what they will receive.
	case "application/json", "application/xml",
		"application/javascript", "application/ecmascript", "application/graphql", "application/x-ndjson":
		return true
	}
	return strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "+xml")
}

// v2Response is events.APIGatewayV2HTTPResponse with statusCode optional, to tell a response
// object from a bare value.
type v2Response struct {
	StatusCode        *int                `json:"statusCode"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
	Cookies           []string            `json:"cookies"`
}

// parseV2Response applies API Gateway's payload 2.0 rules: an object with statusCode is a
// response; any other valid JSON is a 200 application/json whose body is that JSON (a bare string
// is the body as it is).
func parseV2Response(result []byte) (*events.APIGatewayV2HTTPResponse, error) {
	trimmed := bytes.TrimSpace(result)
	if !json.Valid(trimmed) {
		return nil, errors.New("response is not JSON")
	}
	inferred := func(body string) *events.APIGatewayV2HTTPResponse {
		return &events.APIGatewayV2HTTPResponse{
			StatusCode: http.StatusOK,
			Headers:    map[string]string{"Content-Type": "application/json"},
			Body:       body,
		}
	}
	if len(trimmed) > 0 && trimmed[0] == '"' {
		var s string
		if err := json.Unmarshal(trimmed, &s); err != nil {
			return nil, err
		}
		return inferred(s), nil
	}
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return inferred(string(trimmed)), nil
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &probe); err != nil {
		return nil, err
	}
	if _, ok := probe["statusCode"]; !ok {
		return inferred(string(trimmed)), nil
	}
	var r v2Response
	if err := json.Unmarshal(trimmed, &r); err != nil {
		return nil, err
	}
	if r.StatusCode == nil || *r.StatusCode < 100 || *r.StatusCode > 599 {
		return nil, errors.New("statusCode is not an HTTP status")
	}
	body := r.Body
	if r.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(r.Body)
		if err != nil {
			return nil, errors.New("isBase64Encoded body is not base64")
		}
		body = string(b)
	}
	return &events.APIGatewayV2HTTPResponse{
		StatusCode: *r.StatusCode, Headers: r.Headers, MultiValueHeaders: r.MultiValueHeaders,
		Body: body, Cookies: r.Cookies,
	}, nil
}

func writeV2Response(w http.ResponseWriter, r *events.APIGatewayV2HTTPResponse, requestID string) {
	h := w.Header()
	for k, vs := range r.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for k, v := range r.Headers {
		h.Set(k, v)
	}
	for _, c := range r.Cookies {
		h.Add("Set-Cookie", c)
	}
	if _, ok := h["Content-Type"]; !ok {
		// API Gateway does not guess a content type; stop net/http from sniffing one.
		h["Content-Type"] = nil
	}
	h.Set("Apigw-Requestid", requestID)
	h.Set("Content-Length", strconv.Itoa(len(r.Body)))
	w.WriteHeader(r.StatusCode)
	_, _ = io.WriteString(w, r.Body)
}

// newGatewayRequestID makes an id shaped like API Gateway's ("JKJaXmPLvHcESHA=").
func newGatewayRequestID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}
