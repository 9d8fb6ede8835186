// Command reminders is RemindersFunction: hourly, it sends deadline reminders and escalations
// (SPEC §6, §7) and reports overdue and waitlisted referrals. It only wires.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/ipspc/referrals/shared/adapters/awsenv"
	"github.com/ipspc/referrals/shared/adapters/dynamo"
	"github.com/ipspc/referrals/shared/adapters/secrets"
	"github.com/ipspc/referrals/shared/adapters/ses"
	"github.com/ipspc/referrals/shared/edges/notify"
	"github.com/ipspc/referrals/shared/lib/calendar"
	"github.com/ipspc/referrals/shared/lib/metrics"
)

func main() {
	if err := run(); err != nil {
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("reminders start-up failed", slog.String("error", err.Error()))
		os.Exit(1)
	}
}

func run() error {
	cfg, err := notify.ConfigFromEnv(os.Getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	ctx := context.Background()
	awsCfg, err := awsenv.Config(os.Getenv)
	if err != nil {
		return fmt.Errorf("aws config: %w", err)
	}
	signer, err := secrets.LinkSigner(ctx, secretsmanager.NewFromConfig(awsCfg), cfg.LinkSecretARN)
	if err != nil {
		return err
	}
	db := dynamodb.NewFromConfig(awsCfg)
	log := lambdacontext.NewLogger()
	n := &notify.Notifier{
		Store:    dynamo.NewNotifications(db, cfg.ReferralsTable),
		People:   dynamo.NewDirectory(db, cfg.DirectoryTable),
		Mailer:   ses.NewSender(sesv2.NewFromConfig(awsCfg, ses.NoResend), cfg.Sender, cfg.ConfigurationSet),
		Links:    signer,
		BaseURL:  cfg.BaseURL,
		LinkTTL:  cfg.LinkTTL,
		Now:      time.Now,
		Via:      "schedule",
		Claimant: notify.LambdaClaimant,
	}
	h := &notify.ScheduleHandler{Sweep: &notify.Sweep{
		Due:         dynamo.NewDue(db, cfg.ReferralsTable),
		Notifier:    n,
		Calendar:    calendar.Embedded(),
		Metrics:     metrics.New(os.Stdout),
		Log:         log,
		ResendAfter: 15 * time.Minute,
	}}
	lambda.Start(h.Handle)
	return nil
}
