package awsenv_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/ipspc/referrals/shared/adapters/awsenv"
	"github.com/ipspc/referrals/shared/adapters/secrets"
)

// endpointVars are every variable that can move a client's endpoint. Each case sets exactly its
// own and unsets the rest, in the process environment too: the service clients look at
// AWS_ENDPOINT_URL there themselves (os.LookupEnv), whatever getenv says.
var endpointVars = []string{
	"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SESV2",
	"AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
}

var lambdaEnv = map[string]string{
	"AWS_REGION":            "eu-west-2",
	"AWS_ACCESS_KEY_ID":     "ASIAEXAMPLE",
	"AWS_SECRET_ACCESS_KEY": "secret",
	"AWS_SESSION_TOKEN":     "session",
}

func setEnv(t *testing.T, env map[string]string) {
	t.Helper()
	for _, k := range append(endpointVars, "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN") {
		t.Setenv(k, "") // restores the old value when the test ends
		if err := os.Unsetenv(k); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
}

func with(base map[string]string, kv ...string) map[string]string {
	m := map[string]string{}
	for k, v := range base {
		m[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TestConfigEndpoints checks the endpoint each real service client resolves from the standard
// variables, as SPEC §3 needs them: per service, global, both, and switched off. Secrets Manager
// is read with secrets.Client, which must choose as the SDK's clients do.
func TestConfigEndpoints(t *testing.T) {
	tests := []struct {
		name                 string
		env                  map[string]string
		dynamo, ses, secrets string // "" = the service's AWS endpoint
	}{
		{name: "none", env: lambdaEnv},
		{
			name:   "per service",
			env:    with(lambdaEnv, "AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000", "AWS_ENDPOINT_URL_SESV2", "http://127.0.0.1:8005", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:8010"),
			dynamo: "http://127.0.0.1:8000", ses: "http://127.0.0.1:8005", secrets: "http://127.0.0.1:8010",
		},
		{
			name:   "one service only",
			env:    with(lambdaEnv, "AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000"),
			dynamo: "http://127.0.0.1:8000",
		},
		{
			name:   "global",
			env:    with(lambdaEnv, "AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
			dynamo: "http://127.0.0.1:4566", ses: "http://127.0.0.1:4566", secrets: "http://127.0.0.1:4566",
		},
		{
			name:   "per service wins over global",
			env:    with(lambdaEnv, "AWS_ENDPOINT_URL", "http://127.0.0.1:4566", "AWS_ENDPOINT_URL_SESV2", "http://127.0.0.1:8005"),
			dynamo: "http://127.0.0.1:4566", ses: "http://127.0.0.1:8005", secrets: "http://127.0.0.1:4566",
		},
		{
			name: "ignored",
			env:  with(lambdaEnv, "AWS_ENDPOINT_URL", "http://127.0.0.1:4566", "AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE"),
		},
		{
			name: "ignored per service",
			env:  with(lambdaEnv, "AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:4566", "AWS_ENDPOINT_URL_SESV2", "http://127.0.0.1:8005", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
		},
		{
			name:   "not ignored",
			env:    with(lambdaEnv, "AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false"),
			dynamo: "http://127.0.0.1:8000",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t, tt.env)
			cfg, err := awsenv.Config(os.Getenv)
			if err != nil {
				t.Fatal(err)
			}
			sm, err := secrets.NewClient(cfg)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{
				deref(dynamodb.NewFromConfig(cfg).Options().BaseEndpoint),
				deref(sesv2.NewFromConfig(cfg).Options().BaseEndpoint),
				sm.Endpoint(),
			}
			want := []string{tt.dynamo, tt.ses, tt.secrets}
			if want[2] == "" {
				want[2] = "https://secretsmanager.eu-west-2.amazonaws.com"
			}
			for i, svc := range []string{"dynamodb", "sesv2", "secretsmanager"} {
				if got[i] != want[i] {
					t.Errorf("%s endpoint = %q, want %q", svc, got[i], want[i])
				}
			}
		})
	}
}

// TestConfigRegionAndCredentials checks what Lambda's variables become, and that a missing one
// fails at start-up naming it.
func TestConfigRegionAndCredentials(t *testing.T) {
	tests := []struct {
		name       string
		env        map[string]string
		region     string
		wantErr    string // substring; "" = no error
		wantSecret string
	}{
		{name: "lambda", env: lambdaEnv, region: "eu-west-2", wantSecret: "secret"},
		{
			name:   "default region only",
			env:    with(map[string]string{"AWS_DEFAULT_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "s2"}),
			region: "eu-west-1", wantSecret: "s2",
		},
		{
			name:   "AWS_REGION wins",
			env:    with(lambdaEnv, "AWS_DEFAULT_REGION", "us-east-1"),
			region: "eu-west-2", wantSecret: "secret",
		},
		{name: "no region", env: map[string]string{"AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "s"}, wantErr: "AWS_REGION"},
		{name: "no key", env: map[string]string{"AWS_REGION": "eu-west-2", "AWS_SECRET_ACCESS_KEY": "s"}, wantErr: "AWS_ACCESS_KEY_ID"},
		{name: "no secret", env: map[string]string{"AWS_REGION": "eu-west-2", "AWS_ACCESS_KEY_ID": "AKIA"}, wantErr: "AWS_SECRET_ACCESS_KEY"},
		{name: "bad ignore flag", env: with(lambdaEnv, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "yes"), wantErr: "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t, tt.env)
			cfg, err := awsenv.Config(os.Getenv)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Region != tt.region {
				t.Errorf("region = %q, want %q", cfg.Region, tt.region)
			}
			if cfg.Retryer != nil {
				t.Error("Retryer set: the SDK's default retryer should be kept")
			}
			creds, err := cfg.Credentials.Retrieve(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if creds.AccessKeyID != tt.env["AWS_ACCESS_KEY_ID"] || creds.SecretAccessKey != tt.wantSecret || creds.SessionToken != tt.env["AWS_SESSION_TOKEN"] {
				t.Errorf("credentials = %+v, want the environment's", creds)
			}
		})
	}
}

// TestConfigReachesDynamoDBLocal makes one real call through a client built from Config, at the
// endpoint make test's emulators set, so the wiring works end to end and not only on paper.
func TestConfigReachesDynamoDBLocal(t *testing.T) {
	endpoint := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	if endpoint == "" {
		t.Skip("AWS_ENDPOINT_URL_DYNAMODB not set: run under make test (go run ./infra/cmd/local -emulators-only -- go test ...)")
	}
	setEnv(t, with(lambdaEnv, "AWS_ENDPOINT_URL_DYNAMODB", endpoint))
	cfg, err := awsenv.Config(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg)
	if got := aws.ToString(db.Options().BaseEndpoint); got != endpoint {
		t.Fatalf("endpoint = %q, want %q", got, endpoint)
	}
	if _, err := db.ListTables(context.Background(), &dynamodb.ListTablesInput{Limit: aws.Int32(1)}); err != nil {
		t.Fatalf("ListTables through DynamoDB Local: %v", err)
	}
}
