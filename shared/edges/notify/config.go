package notify

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/ipspc/referrals/shared/lib/settings"
)

// Config is what the functions that send emails (notifier, reminders) read from their
// environment (template.yaml).
type Config struct {
	ReferralsTable   string
	DirectoryTable   string
	ReturnsTable     string        // RETURNS_TABLE: the digest's "received last week"
	Sender           string        // SENDER_ADDRESS
	ConfigurationSet string        // SES_CONFIGURATION_SET; empty locally
	BaseURL          string        // PUBLIC_BASE_URL without a trailing slash
	LinkSecretARN    string        // LINK_SECRET_ARN
	LinkTTL          time.Duration // LINK_TTL_DAYS
}

// ConfigFromEnv reads and checks every setting, naming each one that is missing or wrong.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	env := settings.New(getenv)
	c := Config{
		ReferralsTable:   env.Required("REFERRALS_TABLE"),
		DirectoryTable:   env.Required("DIRECTORY_TABLE"),
		ReturnsTable:     env.Required("RETURNS_TABLE"),
		Sender:           env.Required("SENDER_ADDRESS"),
		ConfigurationSet: env.Optional("SES_CONFIGURATION_SET"),
		BaseURL:          strings.TrimSuffix(env.Required("PUBLIC_BASE_URL"), "/"),
		LinkSecretARN:    env.Required("LINK_SECRET_ARN"),
		LinkTTL:          env.Days("LINK_TTL_DAYS", 28),
	}
	return c, env.Err()
}

// LambdaClaimant names the sender of a claim by the Lambda request id, so a claim in a log or a
// table can be traced to its invocation.
func LambdaClaimant(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return lc.AwsRequestID
	}
	return ""
}
