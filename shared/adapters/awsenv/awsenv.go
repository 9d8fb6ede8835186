// Package awsenv builds the aws.Config a Lambda function needs from the variables Lambda sets, in
// place of config.LoadDefaultConfig.
//
// Why: LoadDefaultConfig links the whole default credential chain (the STS, SSO, OIDC and sign-in
// clients, IMDS, the shared config and credentials files) and reads the files at start-up; in
// Lambda that chain always ends at the environment's credentials, so it only costs size (1.8 MB of
// every bootstrap, docs/benchmarks.md) and cold-start time. Only functions/<name>/main.go calls
// this (STYLE rule 1).
//
// What it reads, all standard SDK variables:
//   - region: AWS_REGION, else AWS_DEFAULT_REGION (Lambda sets both);
//   - credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN as a static
//     provider, which is what LoadDefaultConfig makes of them too. Lambda puts the execution
//     role's temporary credentials there for the life of the execution environment and starts a
//     new environment before they lapse, so nothing here refreshes them;
//   - endpoints: AWS_ENDPOINT_URL (every client) and AWS_ENDPOINT_URL_<SERVICE> (one client, e.g.
//     AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_SESV2, AWS_ENDPOINT_URL_SECRETS_MANAGER), and
//     AWS_IGNORE_CONFIGURED_ENDPOINT_URLS, as SPEC §3 requires. The SDK's service clients resolve
//     these themselves, but only through a config source that the config package supplies; Source
//     is that source without the config package, so each client keeps choosing its own endpoint
//     and there is no endpoint code here.
//
// Retries keep the SDK's defaults (the standard retryer, 3 attempts): Retryer is left nil, as
// LoadDefaultConfig leaves it without AWS_MAX_ATTEMPTS or AWS_RETRY_MODE, which Lambda never sets.
package awsenv

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Config returns the aws.Config for a function whose environment getenv reads (os.Getenv in
// main). A missing region or access key is an error: without them every call would fail later,
// one request at a time, instead of at start-up with one clear message.
func Config(getenv func(string) string) (aws.Config, error) {
	region := getenv("AWS_REGION")
	if region == "" {
		region = getenv("AWS_DEFAULT_REGION")
	}
	id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	var missing []string
	if region == "" {
		missing = append(missing, "AWS_REGION")
	}
	if id == "" {
		missing = append(missing, "AWS_ACCESS_KEY_ID")
	}
	if secret == "" {
		missing = append(missing, "AWS_SECRET_ACCESS_KEY")
	}
	if len(missing) > 0 {
		return aws.Config{}, errors.New(strings.Join(missing, ", ") + " not set (Lambda sets them; the local stack passes them)")
	}
	src := Source{Getenv: getenv}
	ignore, _, err := src.GetIgnoreConfiguredEndpoints(context.Background())
	if err != nil {
		return aws.Config{}, err
	}
	cfg := aws.Config{
		Region:        region,
		Credentials:   credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN")),
		ConfigSources: []any{src},
	}
	if !ignore {
		if u := getenv("AWS_ENDPOINT_URL"); u != "" {
			cfg.BaseEndpoint = aws.String(u)
		}
	}
	return cfg, nil
}

// Source answers the service clients' questions about configured endpoints from the environment,
// by the SDK's own naming rule (config.EnvConfig's): AWS_ENDPOINT_URL_ followed by the service's
// SDK id in upper case with spaces as underscores.
type Source struct {
	Getenv func(string) string
}

// GetServiceBaseEndpoint is the hook each service client calls with its SDK id ("DynamoDB",
// "SESv2", "Secrets Manager"). It finds nothing when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true:
// the SDK's clients check that flag themselves, but secrets.Client asks only this.
func (s Source) GetServiceBaseEndpoint(ctx context.Context, sdkID string) (string, bool, error) {
	if ignore, _, err := s.GetIgnoreConfiguredEndpoints(ctx); err != nil || ignore {
		return "", false, err
	}
	u := s.Getenv("AWS_ENDPOINT_URL_" + strings.ReplaceAll(strings.ToUpper(sdkID), " ", "_"))
	return u, u != "", nil
}

// GetIgnoreConfiguredEndpoints reports AWS_IGNORE_CONFIGURED_ENDPOINT_URLS, which switches the
// endpoint variables off; like the SDK, it takes only true or false (any case).
func (s Source) GetIgnoreConfiguredEndpoints(context.Context) (bool, bool, error) {
	switch v := s.Getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"); {
	case v == "":
		return false, false, nil
	case strings.EqualFold(v, "true"):
		return true, true, nil
	case strings.EqualFold(v, "false"):
		return false, true, nil
	default:
		return false, false, fmt.Errorf("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is %q: want true or false", v)
	}
}
