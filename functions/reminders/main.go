// Command reminders is RemindersFunction: hourly, it sends deadline reminders and escalations
// (SPEC §6, §7), reports overdue and waitlisted referrals and sends the leads' weekly digests (§11). It only wires.
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
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/ipspc/referrals/shared/adapters/awsenv"
	"github.com/ipspc/referrals/shared/adapters/dynamo"
	"github.com/ipspc/referrals/shared/adapters/secrets"
	"github.com/ipspc/referrals/shared/adapters/ses"
	"github.com/ipspc/referrals/shared/edges/notify"
	"github.com/ipspc/referrals/shared/lib/calendar"
	"github.com/ipspc/referrals/shared/lib/metrics"
	"github.com/ipspc/referrals/shared/render/email"
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
	sm, err := secrets.NewClient(awsCfg)
	if err != nil {
		return err
	}
	signer, err := secrets.LinkSigner(ctx, sm, cfg.LinkSecretARN)
	if err != nil {
		return err
	}
	db := dynamo.Bind(dynamodb.NewFromConfig(awsCfg))
	log := lambdacontext.NewLogger()
	people := dynamo.NewDirectory(db, cfg.DirectoryTable)
	sender := email.Outbox{Transport: ses.NewSender(ses.Bind(sesv2.NewFromConfig(awsCfg, ses.NoResend)), cfg.Sender, cfg.ConfigurationSet)}
	n := &notify.Notifier{
		Store:    dynamo.NewNotifications(db, cfg.ReferralsTable),
		People:   people,
		Mailer:   sender,
		Links:    signer,
		BaseURL:  cfg.BaseURL,
		LinkTTL:  cfg.LinkTTL,
		Now:      time.Now,
		Via:      "schedule",
		Claimant: notify.LambdaClaimant,
	}
	h := &notify.ScheduleHandler{Sweep: &notify.Sweep{
		Due:         dynamo.NewDue(db, dynamo.Tables{Referrals: cfg.ReferralsTable, Directory: cfg.DirectoryTable}),
		Notifier:    n,
		Calendar:    calendar.Embedded(),
		Metrics:     metrics.New(os.Stdout),
		Log:         log,
		ResendAfter: 15 * time.Minute,
		Digests: &notify.Digests{
			Areas:    people,
			Store:    dynamo.NewWorklists(db, dynamo.Tables{Referrals: cfg.ReferralsTable, Directory: cfg.DirectoryTable}),
			Received: dynamo.NewReturns(db, cfg.ReturnsTable),
			Links:    signer,
			Mailer:   sender,
			BaseURL:  cfg.BaseURL,
		},
	}}
	lambda.Start(h.Handle)
	return nil
}
