// Command notifier is NotifierFunction: on the referrals table's stream it sends the assignment,
// acknowledgement and waitlisted emails (SPEC §7). It only wires.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/ipspc/referrals/shared/dynamo"
	"github.com/ipspc/referrals/shared/notify"
	"github.com/ipspc/referrals/shared/secrets"
	"github.com/ipspc/referrals/shared/ses"
	"github.com/ipspc/referrals/shared/signedlink"
)

func main() {
	if err := run(); err != nil {
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("notifier start-up failed", slog.String("error", err.Error()))
		os.Exit(1)
	}
}

func run() error {
	env := os.Getenv
	var missing []error
	for _, name := range []string{"REFERRALS_TABLE", "DIRECTORY_TABLE", "SENDER_ADDRESS", "PUBLIC_BASE_URL", "LINK_SECRET_ARN"} {
		if env(name) == "" {
			missing = append(missing, fmt.Errorf("%s is not set", name))
		}
	}
	linkDays, err := strconv.Atoi(env("LINK_TTL_DAYS"))
	if err != nil || linkDays < 1 {
		missing = append(missing, fmt.Errorf("LINK_TTL_DAYS must be a whole number of days, not %q", env("LINK_TTL_DAYS")))
	}
	if err := errors.Join(missing...); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}

	ctx := context.Background()
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("aws config: %w", err)
	}
	secret, err := secrets.LinkSecret(ctx, secretsmanager.NewFromConfig(awsCfg), env("LINK_SECRET_ARN"))
	if err != nil {
		return err
	}
	signer, err := signedlink.NewSigner(secret)
	if err != nil {
		return err
	}
	db := dynamodb.NewFromConfig(awsCfg)
	n := &notify.Notifier{
		Store:   dynamo.NewNotifications(db, env("REFERRALS_TABLE")),
		People:  dynamo.NewDirectory(db, env("DIRECTORY_TABLE")),
		Mailer:  ses.NewSender(sesv2.NewFromConfig(awsCfg), env("SENDER_ADDRESS"), env("SES_CONFIGURATION_SET")),
		Links:   signer,
		BaseURL: strings.TrimSuffix(env("PUBLIC_BASE_URL"), "/"),
		LinkTTL: time.Duration(linkDays) * 24 * time.Hour,
		Now:     time.Now,
		Via:     "stream",
		Claimant: func(ctx context.Context) string {
			if lc, ok := lambdacontext.FromContext(ctx); ok {
				return lc.AwsRequestID
			}
			return ""
		},
	}
	h := &notify.StreamHandler{Notify: n, Log: lambdacontext.NewLogger(), Workers: 10}
	lambda.Start(h.Handle)
	return nil
}
