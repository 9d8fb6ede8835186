// Command notifier is NotifierFunction: on the referrals table's stream it sends the assignment,
// acknowledgement and waitlisted emails (SPEC §7). It only wires.
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
	"github.com/ipspc/referrals/shared/render/email"
)

func main() {
	if err := run(); err != nil {
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("notifier start-up failed", slog.String("error", err.Error()))
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
	n := &notify.Notifier{
		Store:    dynamo.NewNotifications(db, cfg.ReferralsTable),
		People:   dynamo.NewDirectory(db, cfg.DirectoryTable),
		Mailer:   email.Outbox{Transport: ses.NewSender(ses.Bind(sesv2.NewFromConfig(awsCfg, ses.NoResend)), cfg.Sender, cfg.ConfigurationSet)},
		Links:    signer,
		BaseURL:  cfg.BaseURL,
		LinkTTL:  cfg.LinkTTL,
		Now:      time.Now,
		Via:      "stream",
		Claimant: notify.LambdaClaimant,
	}
	h := &notify.StreamHandler{Notify: n, Log: lambdacontext.NewLogger(), Workers: 10, PerReferral: 20 * time.Second}
	lambda.Start(h.Handle)
	return nil
}
