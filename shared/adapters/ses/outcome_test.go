package ses

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/ipspc/referrals/shared/domain/notification"
	"github.com/ipspc/referrals/shared/render/email"
)

// TestSendOutcomes drives the real SDK client, with the service's retryer, against endpoints that
// fail the ways SES and networks do. Only what SES may still deliver is an unknown outcome, and the
// SDK never sends a request a second time unless the first certainly did not reach SES.
func TestSendOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		serve    func(n int64, w http.ResponseWriter, r *http.Request) // n counts requests from 1
		refused  bool                                                  // nothing listens
		unknown  bool
		ok       bool
		requests int64
	}{
		{name: "refused", refused: true},
		{name: "cut at once", requests: 1, serve: func(_ int64, w http.ResponseWriter, _ *http.Request) { cut(w, 0) }},
		{name: "hangs past the deadline", unknown: true, requests: 1, serve: func(_ int64, _ http.ResponseWriter, r *http.Request) {
			select { // the client gives up at 3 s
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}},
		{name: "held, then cut", unknown: true, requests: 1, serve: func(_ int64, w http.ResponseWriter, _ *http.Request) { cut(w, heldFor+200*time.Millisecond) }},
		{name: "SES fails", requests: 1, serve: func(_ int64, w http.ResponseWriter, _ *http.Request) {
			sesError(w, http.StatusInternalServerError, "InternalFailure")
		}},
		{name: "SES throttles, the SDK retries", ok: true, requests: 2, serve: func(n int64, w http.ResponseWriter, _ *http.Request) {
			if n == 1 {
				sesError(w, http.StatusTooManyRequests, "TooManyRequestsException")
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"MessageId":"m-1"}`))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var requests atomic.Int64
			var endpoint string
			if tt.refused {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				endpoint = "http://" + ln.Addr().String()
				_ = ln.Close()
			} else {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					tt.serve(requests.Add(1), w, r)
				}))
				t.Cleanup(srv.Close)
				endpoint = srv.URL
			}
			client := sesv2.NewFromConfig(aws.Config{
				Region: "eu-west-2", Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
			}, func(o *sesv2.Options) { o.BaseEndpoint = aws.String(endpoint) }, NoResend)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			id, err := outbox(NewSender(client, sender, "")).Send(ctx, exampleFor(t, email.Assignment))
			switch {
			case tt.ok && (err != nil || id != "m-1"):
				t.Errorf("Send = %q, %v; want m-1", id, err)
			case !tt.ok && err == nil:
				t.Errorf("Send = %q, want an error", id)
			case !tt.ok && errors.Is(err, notification.ErrOutcomeUnknown) != tt.unknown:
				t.Errorf("Send error = %v; outcome unknown = %v, want %v", err, !tt.unknown, tt.unknown)
			}
			if got := requests.Load(); got != tt.requests {
				t.Errorf("SES got %d requests, want %d", got, tt.requests)
			}
		})
	}
}

// cut closes the connection without an answer after wait.
func cut(w http.ResponseWriter, wait time.Duration) {
	time.Sleep(wait)
	c, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		_ = c.Close()
	}
}

func sesError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"message":"` + code + `"}`))
}
