package localstack

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// requestEvent sends a request through the HTTP API to echofn and returns the event it received.
func requestEvent(tb testing.TB, req *http.Request) (events.APIGatewayV2HTTPRequest, map[string]json.RawMessage, *http.Response) {
	tb.Helper()
	resp, body := do(tb, req)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("%s %s: %d %s", req.Method, req.URL, resp.StatusCode, body)
	}
	var e echo
	if err := json.Unmarshal(body, &e); err != nil {
		tb.Fatalf("decode echo %s: %v", body, err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(e.Event, &ev); err != nil {
		tb.Fatalf("decode event: %v", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(e.Event, &raw); err != nil {
		tb.Fatalf("decode event: %v", err)
	}
	return ev, raw, resp
}

func TestHTTPAPIRequestEvent(t *testing.T) {
	s, _ := startStack(t, "echo.yaml", func(c *Config) { c.Functions = []string{"EchoFunction"} })
	before := time.Now()

	req := newRequest(t, http.MethodPost, s.HTTPURL()+"/items?b=2&a=1&a=3&e=x%20y", strings.NewReader(`{"hello":"world"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "localstack-test/1")
	req.Header.Add("X-Multi", "one")
	req.Header.Add("X-Multi", "two")
	req.Header.Set("Cookie", "c1=v1; c2=v2")
	ev, raw, resp := requestEvent(t, req)

	checks := []struct {
		name      string
		got, want any
	}{
		{"version", ev.Version, "2.0"},
		{"routeKey", ev.RouteKey, "POST /items"},
		{"rawPath", ev.RawPath, "/items"},
		{"rawQueryString", ev.RawQueryString, "b=2&a=1&a=3&e=x%20y"},
		{"cookies", strings.Join(ev.Cookies, "|"), "c1=v1|c2=v2"},
		{"repeated header", ev.Headers["x-multi"], "one,two"},
		{"content-type header", ev.Headers["content-type"], "application/json"},
		{"host header", ev.Headers["host"], strings.TrimPrefix(s.HTTPURL(), "http://")},
		{"x-forwarded-for", ev.Headers["x-forwarded-for"], "127.0.0.1"},
		{"no cookie header", ev.Headers["cookie"], ""},
		{"repeated query", ev.QueryStringParameters["a"], "1,3"},
		{"decoded query", ev.QueryStringParameters["e"], "x y"},
		{"no path parameters", len(ev.PathParameters), 0},
		{"body", ev.Body, `{"hello":"world"}`},
		{"isBase64Encoded", ev.IsBase64Encoded, false},
		{"ctx routeKey", ev.RequestContext.RouteKey, "POST /items"},
		{"ctx stage", ev.RequestContext.Stage, "$default"},
		{"ctx accountId", ev.RequestContext.AccountID, DefaultAccountID},
		{"ctx apiId", ev.RequestContext.APIID, "local"},
		{"ctx domainName", ev.RequestContext.DomainName, strings.TrimPrefix(s.HTTPURL(), "http://")},
		{"ctx method", ev.RequestContext.HTTP.Method, "POST"},
		{"ctx path", ev.RequestContext.HTTP.Path, "/items"},
		{"ctx protocol", ev.RequestContext.HTTP.Protocol, "HTTP/1.1"},
		{"ctx sourceIp", ev.RequestContext.HTTP.SourceIP, "127.0.0.1"},
		{"ctx userAgent", ev.RequestContext.HTTP.UserAgent, "localstack-test/1"},
		{"ctx requestId = Apigw-Requestid", ev.RequestContext.RequestID, resp.Header.Get("Apigw-Requestid")},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
	for k := range ev.Headers {
		if k != strings.ToLower(k) {
			t.Errorf("header %q is not lower case", k)
		}
	}
	if ev.RequestContext.RequestID == "" {
		t.Error("requestContext.requestId is empty")
	}
	when, err := time.Parse("02/Jan/2006:15:04:05 -0700", ev.RequestContext.Time)
	if err != nil || when.Before(before.Add(-time.Second).Truncate(time.Second)) {
		t.Errorf("requestContext.time %q: %v", ev.RequestContext.Time, err)
	}
	if epoch := time.UnixMilli(ev.RequestContext.TimeEpoch); epoch.Before(before.Add(-time.Second)) || epoch.After(time.Now()) {
		t.Errorf("requestContext.timeEpoch %v is not now", epoch)
	}
	// API Gateway sends no authentication object without mutual TLS.
	var rc map[string]json.RawMessage
	if err := json.Unmarshal(raw["requestContext"], &rc); err != nil {
		t.Fatal(err)
	}
	if _, ok := rc["authentication"]; ok {
		t.Errorf("requestContext has an authentication object: %s", rc["authentication"])
	}
}

func TestHTTPAPIBodiesAndRoutes(t *testing.T) {
	s, logs := startStack(t, "echo.yaml", func(c *Config) { c.Functions = []string{"EchoFunction"} })
	// The gateway's access log line carries the path only: query strings carry signed-link
	// tokens (SPEC §8). Its line is written after the response, so wait for it.
	t.Run("access log has no query string", func(t *testing.T) {
		ev, _, _ := requestEvent(t, newRequest(t, "GET", s.HTTPURL()+"/items/R-LOG?token=SECRET-TOKEN-1&x=2", nil))
		if ev.RawQueryString != "token=SECRET-TOKEN-1&x=2" {
			t.Fatalf("the function must still get the query string, got %q", ev.RawQueryString)
		}
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(logs.String(), "/items/R-LOG") && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		var line string
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, "msg=request") && strings.Contains(l, "/items/R-LOG") {
				line = l
			}
		}
		if line == "" || !strings.Contains(line, "path=/items/R-LOG ") || strings.Contains(line, "SECRET-TOKEN") || strings.Contains(line, "?") {
			t.Errorf("access log line = %q, want the path without the query", line)
		}
	})
	binary := []byte{0x89, 'P', 'N', 'G', 0xff, 0x00}
	tests := []struct {
		name, method, path, contentType string
		body                            []byte
		wantRoute                       string
		wantBody                        string
		wantB64                         bool
		wantParams                      map[string]string
	}{
		{"json is text", "POST", "/items", "application/json; charset=utf-8", []byte(`{"a":1}`), "POST /items", `{"a":1}`, false, nil},
		{"form is base64 like the real HTTP API", "POST", "/items", "application/x-www-form-urlencoded", []byte("a=1&b=%C3%A9"), "POST /items", base64.StdEncoding.EncodeToString([]byte("a=1&b=%C3%A9")), true, nil},
		{"form with charset is base64", "POST", "/items", "application/x-www-form-urlencoded; charset=UTF-8", []byte("a=1"), "POST /items", base64.StdEncoding.EncodeToString([]byte("a=1")), true, nil},
		{"text/html is text", "POST", "/items", "text/html", []byte("<p>hi</p>"), "POST /items", "<p>hi</p>", false, nil},
		{"xml is text", "POST", "/items", "application/soap+xml", []byte("<a/>"), "POST /items", "<a/>", false, nil},
		{"png is base64", "POST", "/items", "image/png", binary, "POST /items", base64.StdEncoding.EncodeToString(binary), true, nil},
		{"no content type is base64", "POST", "/items", "", []byte("plain"), "POST /items", base64.StdEncoding.EncodeToString([]byte("plain")), true, nil},
		{"invalid utf-8 text is base64", "POST", "/items", "text/plain", binary, "POST /items", base64.StdEncoding.EncodeToString(binary), true, nil},
		{"path parameter", "GET", "/items/R-123", "", nil, "GET /items/{id}", "", false, map[string]string{"id": "R-123"}},
		{"literal beats parameter", "GET", "/items/special", "", nil, "GET /items/special", "", false, nil},
		{"greedy proxy", "DELETE", "/assets/css/a%20b.css", "", nil, "ANY /assets/{proxy+}", "", false, map[string]string{"proxy": "css/a b.css"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != nil {
				body = bytes.NewReader(tt.body)
			}
			req := newRequest(t, tt.method, s.HTTPURL()+tt.path, body)
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			ev, _, _ := requestEvent(t, req)
			if ev.RouteKey != tt.wantRoute {
				t.Errorf("routeKey = %q, want %q", ev.RouteKey, tt.wantRoute)
			}
			if ev.Body != tt.wantBody || ev.IsBase64Encoded != tt.wantB64 {
				t.Errorf("body = %q (base64 %v), want %q (base64 %v)", ev.Body, ev.IsBase64Encoded, tt.wantBody, tt.wantB64)
			}
			if !maps.Equal(ev.PathParameters, tt.wantParams) {
				t.Errorf("pathParameters = %v, want %v", ev.PathParameters, tt.wantParams)
			}
			if ev.RawPath != tt.path {
				t.Errorf("rawPath = %q, want %q", ev.RawPath, tt.path)
			}
		})
	}
}

func TestHTTPAPIResponses(t *testing.T) {
	s, _ := startStack(t, "echo.yaml", nil)
	tests := []struct {
		name        string
		method      string
		path        string
		body        io.Reader
		wantStatus  int
		wantType    string
		wantBody    string
		wantHeaders map[string][]string
	}{
		{"base64 body decoded", "GET", "/?action=binary", nil, 200, "image/png", "\x89PNG\x00\x01\x02", nil},
		{"cookies and multi-value headers", "GET", "/?action=cookies", nil, 201, "text/plain", "cookies set", map[string][]string{
			"Set-Cookie": {"a=1; Path=/", "b=2; HttpOnly"}, "X-Multi": {"a", "b"}, "X-Single": {"one"},
		}},
		{"bare string inferred", "GET", "/?action=string", nil, 200, "application/json", "just a string", nil},
		{"object without statusCode inferred", "GET", "/?action=object", nil, 200, "application/json", `{"hello":"world"}`, nil},
		{"malformed response is 502", "GET", "/?action=invalid", nil, 502, "application/json", `{"message":"Internal Server Error"}`, nil},
		{"function error is 502", "GET", "/?action=error", nil, 502, "application/json", `{"message":"Internal Server Error"}`, nil},
		{"panic is 502", "GET", "/?action=panic", nil, 502, "application/json", `{"message":"Internal Server Error"}`, nil},
		{"crash is 502", "GET", "/?action=exit", nil, 502, "application/json", `{"message":"Internal Server Error"}`, nil},
		{"timeout is 502", "GET", "/slow?sleepMs=3000", nil, 502, "application/json", `{"message":"Internal Server Error"}`, nil},
		{"unmatched path is 404", "GET", "/nowhere", nil, 404, "application/json", `{"message":"Not Found"}`, nil},
		{"unmatched method is 404", "DELETE", "/items", nil, 404, "application/json", `{"message":"Not Found"}`, nil},
		{"body over 10 MB is 413", "POST", "/items", bytes.NewReader(make([]byte, MaxHTTPBodySize+1)), 413, "application/json", `{"message":"Request Entity Too Large"}`, nil},
		{"body over 6 MB is refused by Lambda: 500", "POST", "/items", bytes.NewReader(make([]byte, 5*1024*1024)), 500, "application/json", `{"message":"Internal Server Error"}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, newRequest(t, tt.method, s.HTTPURL()+tt.path, tt.body))
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d (body %.200s)", resp.StatusCode, tt.wantStatus, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", ct, tt.wantType)
			}
			if got := strings.TrimSpace(string(body)); got != tt.wantBody {
				t.Errorf("body = %q, want %q", got, tt.wantBody)
			}
			for k, want := range tt.wantHeaders {
				if got := resp.Header.Values(k); !slices.Equal(got, want) {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if resp.Header.Get("Apigw-Requestid") == "" {
				t.Error("no Apigw-Requestid header")
			}
		})
	}
}

func TestParseV2Response(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		wantStatus int
		wantBody   string
		wantErr    bool
	}{
		{"full response", `{"statusCode":204,"body":""}`, 204, "", false},
		{"base64", `{"statusCode":200,"body":"aGk=","isBase64Encoded":true}`, 200, "hi", false},
		{"bare number", `42`, 200, "42", false},
		{"bare string", `"hi"`, 200, "hi", false},
		{"null", `null`, 200, "null", false},
		{"object", `{"a":1}`, 200, `{"a":1}`, false},
		{"statusCode not a number", `{"statusCode":"200"}`, 0, "", true},
		{"statusCode out of range", `{"statusCode":99}`, 0, "", true},
		{"bad base64", `{"statusCode":200,"body":"%%%","isBase64Encoded":true}`, 0, "", true},
		{"not JSON", `oops`, 0, "", true},
		{"empty", ``, 0, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := parseV2Response([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && (r.StatusCode != tt.wantStatus || r.Body != tt.wantBody) {
				t.Errorf("got %d %q, want %d %q", r.StatusCode, r.Body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}
