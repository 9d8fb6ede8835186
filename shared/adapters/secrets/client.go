package secrets

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Client makes Secrets Manager's GetSecretValue call, the only one the functions make, as one
// SigV4-signed POST in the service's JSON protocol, instead of through the SDK's
// secretsmanager client.
//
// Why: the SDK client's package builds its schemas and endpoint rules at init and links its
// operations' code: 0.26 MB of each bootstrap and 0.2 ms of each cold start, for one call made
// at start-up (docs/decisions.md). SPEC §2 fixes the SDK for DynamoDB and SES v2 only. The
// request is signed by the SDK's own v4 signer with the aws.Config's credentials.
type Client struct {
	endpoint string
	region   string
	creds    aws.CredentialsProvider
	http     aws.HTTPClient
	signer   *v4.Signer
	// Attempts bounds the tries of a call that failed on the network, was throttled or got a
	// 5xx, as the SDK's standard retryer does (3).
	Attempts int
}

// sdkID is the service's SDK id, which names its endpoint variable:
// AWS_ENDPOINT_URL_SECRETS_MANAGER.
const sdkID = "Secrets Manager"

// endpointSource is what awsenv.Source (in aws.Config.ConfigSources) answers: the configured
// endpoint of one service, as the SDK's clients ask it.
type endpointSource interface {
	GetServiceBaseEndpoint(ctx context.Context, sdkID string) (string, bool, error)
}

// NewClient returns a client for cfg's region and credentials. Its endpoint is chosen as the
// SDK's clients choose theirs: AWS_ENDPOINT_URL_SECRETS_MANAGER (through cfg.ConfigSources),
// else cfg.BaseEndpoint (AWS_ENDPOINT_URL), else the region's standard endpoint
// (https://secretsmanager.<region>.amazonaws.com, .amazonaws.com.cn in China).
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is honoured by awsenv: Config leaves BaseEndpoint unset and
// Source finds no per-service endpoint.
func NewClient(cfg aws.Config) (*Client, error) {
	c := &Client{region: cfg.Region, creds: cfg.Credentials, http: cfg.HTTPClient, signer: v4.NewSigner(), Attempts: 3}
	if c.http == nil {
		c.http = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.BaseEndpoint != nil {
		c.endpoint = *cfg.BaseEndpoint
	}
	for _, src := range cfg.ConfigSources {
		if s, ok := src.(endpointSource); ok {
			u, found, err := s.GetServiceBaseEndpoint(context.Background(), sdkID)
			if err != nil {
				return nil, fmt.Errorf("secrets manager endpoint: %w", err)
			}
			if found {
				c.endpoint = u
			}
			break
		}
	}
	if c.endpoint == "" {
		if c.region == "" {
			return nil, errors.New("secrets manager: no region")
		}
		suffix := "amazonaws.com"
		if strings.HasPrefix(c.region, "cn-") {
			suffix = "amazonaws.com.cn"
		}
		c.endpoint = "https://secretsmanager." + c.region + "." + suffix
	}
	return c, nil
}

var _ API = (*Client)(nil)

// Endpoint is the URL the client posts to.
func (c *Client) Endpoint() string { return c.endpoint }

// awsError is the JSON protocol's error body.
type awsError struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

// GetSecretValue returns the SecretString of the secret id in version stage ("" when the secret
// holds only a binary value). A missing secret or stage is an error wrapping ErrNotFound.
func (c *Client) GetSecretValue(ctx context.Context, id, stage string) (string, error) {
	body, err := json.Marshal(struct {
		SecretID     string `json:"SecretId"`
		VersionStage string `json:"VersionStage,omitempty"`
	}{id, stage})
	if err != nil {
		return "", err
	}
	var lastErr error
	for attempt := range max(c.Attempts, 1) {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return "", fmt.Errorf("%w (last: %v)", ctx.Err(), lastErr)
			case <-time.After(time.Duration(50<<attempt) * time.Millisecond):
			}
		}
		value, retry, err := c.call(ctx, body)
		if err == nil || !retry {
			return value, err
		}
		lastErr = err
	}
	return "", lastErr
}

// call makes one attempt; retry says whether a failure is worth another.
func (c *Client) call(ctx context.Context, body []byte) (value string, retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return "", false, fmt.Errorf("secrets manager request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "secretsmanager.GetSecretValue")
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		return "", false, fmt.Errorf("secrets manager credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "secretsmanager", c.region, time.Now()); err != nil {
		return "", false, fmt.Errorf("sign secrets manager request: %w", err)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return "", ctx.Err() == nil, fmt.Errorf("secrets manager: %w", err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return "", true, fmt.Errorf("secrets manager: read response: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		var e awsError
		_ = json.Unmarshal(raw, &e)
		// __type may be qualified ("namespace#Name") and may carry a suffix (":http://...").
		typ := e.Type[strings.LastIndex(e.Type, "#")+1:]
		typ, _, _ = strings.Cut(typ, ":")
		err := fmt.Errorf("secrets manager GetSecretValue: %d %s: %s", res.StatusCode, typ, e.Message)
		if typ == "ResourceNotFoundException" {
			err = fmt.Errorf("%w: %v", ErrNotFound, err)
		}
		throttled := res.StatusCode == http.StatusTooManyRequests || strings.Contains(typ, "Throttl")
		return "", throttled || res.StatusCode >= 500, err
	}
	var out struct{ SecretString string }
	if err := json.Unmarshal(raw, &out); err != nil {
		return "", false, fmt.Errorf("secrets manager GetSecretValue: response: %w", err)
	}
	return out.SecretString, false, nil
}
