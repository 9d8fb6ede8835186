package secrets

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

var testCreds = credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token")

// checkSignature recomputes the request's SigV4 signature as Secrets Manager would, over what
// arrived (the headers it names as signed, the body, the host), with the test's secret key, and
// fails unless it matches and its scope is eu-west-2/secretsmanager.
func checkSignature(t *testing.T, r *http.Request, body []byte) {
	t.Helper()
	auth := r.Header.Get("Authorization")
	if !strings.Contains(auth, "Credential=AKIDEXAMPLE/") || !strings.Contains(auth, "/eu-west-2/secretsmanager/aws4_request") {
		t.Errorf("Authorization %q: want the test key scoped to eu-west-2/secretsmanager", auth)
	}
	_, signed, _ := strings.Cut(auth, "SignedHeaders=")
	signed, _, _ = strings.Cut(signed, ",")
	for _, h := range []string{"host", "x-amz-date", "x-amz-target", "x-amz-security-token", "content-type"} {
		if !strings.Contains(";"+signed+";", ";"+h+";") {
			t.Errorf("SignedHeaders %q lacks %s", signed, h)
		}
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		t.Fatalf("X-Amz-Date: %v", err)
	}
	again, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	for _, h := range strings.Split(signed, ";") {
		if h != "host" {
			again.Header.Set(h, r.Header.Get(h))
		}
	}
	again.Header.Del("Authorization")
	creds, _ := testCreds.Retrieve(context.Background())
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, again, hex.EncodeToString(sum[:]), "secretsmanager", "eu-west-2", at); err != nil {
		t.Fatal(err)
	}
	if got := again.Header.Get("Authorization"); got != auth {
		t.Errorf("signature does not match the request as received:\n got  %s\n want %s", auth, got)
	}
}

func TestClientGetSecretValue(t *testing.T) {
	t.Parallel()
	type reply struct {
		status int
		body   string
	}
	tests := []struct {
		name      string
		replies   []reply // one per attempt
		want      string
		wantErr   string
		notFound  bool
		wantCalls int32
	}{
		{name: "current value", replies: []reply{{200, `{"ARN":"arn:x","SecretString":"the-secret","VersionStages":["AWSPREVIOUS"]}`}}, want: "the-secret", wantCalls: 1},
		{name: "binary only", replies: []reply{{200, `{"ARN":"arn:x","SecretBinary":"AAAA"}`}}, want: "", wantCalls: 1},
		{name: "not found", replies: []reply{{400, `{"__type":"ResourceNotFoundException","message":"no such stage"}`}},
			wantErr: "ResourceNotFoundException: no such stage", notFound: true, wantCalls: 1},
		{name: "qualified error type", replies: []reply{{400, `{"__type":"com.amazonaws.secretsmanager#ResourceNotFoundException","message":"x"}`}},
			wantErr: "ResourceNotFoundException", notFound: true, wantCalls: 1},
		{name: "denied is not retried", replies: []reply{{400, `{"__type":"AccessDeniedException","message":"not allowed"}`}, {200, `{"SecretString":"late"}`}},
			wantErr: "AccessDeniedException: not allowed", wantCalls: 1},
		{name: "5xx is retried", replies: []reply{{500, `{"__type":"InternalServiceError","message":"oops"}`}, {200, `{"SecretString":"second"}`}}, want: "second", wantCalls: 2},
		{name: "throttling is retried", replies: []reply{{400, `{"__type":"ThrottlingException","message":"slow down"}`}, {200, `{"SecretString":"second"}`}}, want: "second", wantCalls: 2},
		{name: "gives up after three attempts", replies: []reply{{503, `{}`}, {503, `{}`}, {503, `{"__type":"ServiceUnavailable","message":"down"}`}, {200, `{"SecretString":"late"}`}},
			wantErr: "503 ServiceUnavailable: down", wantCalls: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := calls.Add(1)
				body, _ := io.ReadAll(r.Body)
				var in struct{ SecretId, VersionStage string }
				if err := json.Unmarshal(body, &in); err != nil || in.SecretId != "arn:aws:secretsmanager:eu-west-2:1:secret:link" || in.VersionStage != StagePrevious {
					t.Errorf("body %s: want the secret id and stage", body)
				}
				if r.Method != http.MethodPost || r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" || r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
					t.Errorf("%s with target %q, type %q: want the JSON protocol's GetSecretValue", r.Method, r.Header.Get("X-Amz-Target"), r.Header.Get("Content-Type"))
				}
				if r.Header.Get("X-Amz-Security-Token") != "session-token" {
					t.Errorf("X-Amz-Security-Token = %q, want the session token", r.Header.Get("X-Amz-Security-Token"))
				}
				checkSignature(t, r, body)
				rep := tt.replies[n-1]
				w.WriteHeader(rep.status)
				_, _ = io.WriteString(w, rep.body)
			}))
			defer srv.Close()
			c, err := NewClient(aws.Config{Region: "eu-west-2", Credentials: testCreds, BaseEndpoint: aws.String(srv.URL)})
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.GetSecretValue(context.Background(), "arn:aws:secretsmanager:eu-west-2:1:secret:link", StagePrevious)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || errors.Is(err, ErrNotFound) != tt.notFound {
					t.Fatalf("err = %v, want %q (not found %v)", err, tt.wantErr, tt.notFound)
				}
			} else if err != nil || got != tt.want {
				t.Fatalf("= %q, %v; want %q", got, err, tt.want)
			}
			if n := calls.Load(); n != tt.wantCalls {
				t.Errorf("%d attempts, want %d", n, tt.wantCalls)
			}
		})
	}
}

func TestNewClientEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		region, want string
	}{
		{"eu-west-2", "https://secretsmanager.eu-west-2.amazonaws.com"},
		{"cn-north-1", "https://secretsmanager.cn-north-1.amazonaws.com.cn"},
	}
	for _, tt := range tests {
		c, err := NewClient(aws.Config{Region: tt.region, Credentials: testCreds})
		if err != nil || c.Endpoint() != tt.want {
			t.Errorf("region %s: endpoint %q, %v; want %q", tt.region, c.Endpoint(), err, tt.want)
		}
	}
	if _, err := NewClient(aws.Config{Credentials: testCreds}); err == nil {
		t.Error("no region and no endpoint: want an error")
	}
}
