// Command intake is IntakeFunction: it serves the referral form and takes referrals (SPEC §4).
// It only wires: environment → AWS clients → adapters → service → handler → lambda.Start.
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

	"github.com/ipspc/referrals/shared/adapters/awsenv"
	"github.com/ipspc/referrals/shared/adapters/dynamo"
	"github.com/ipspc/referrals/shared/adapters/secrets"
	"github.com/ipspc/referrals/shared/domain/directory"
	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/edges/intake"
	"github.com/ipspc/referrals/shared/lib/calendar"
	"github.com/ipspc/referrals/shared/lib/metrics"
	"github.com/ipspc/referrals/shared/lib/signedlink"
	"github.com/ipspc/referrals/shared/lib/startup"
)

func main() {
	if err := run(); err != nil {
		// Start-up failed before the runtime loop: Lambda reports it as an init error.
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("intake start-up failed", slog.String("error", err.Error()))
		os.Exit(1)
	}
}

func run() error {
	cfg, err := intake.ConfigFromEnv(os.Getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	awsCfg, err := awsenv.Config(os.Getenv)
	if err != nil {
		return fmt.Errorf("aws config: %w", err)
	}
	sm, err := secrets.NewClient(awsCfg)
	if err != nil {
		return err
	}
	db := dynamo.Bind(dynamodb.NewFromConfig(awsCfg))
	dir := dynamo.NewDirectory(db, cfg.Tables.Directory)
	prefixes := &directory.Cached[directory.Prefixes]{Load: dir.Prefixes, TTL: 5 * time.Minute}
	areaNames := &directory.Cached[map[string]string]{Load: func(ctx context.Context) (map[string]string, error) {
		areas, err := dir.Areas(ctx)
		names := make(map[string]string, len(areas))
		for _, a := range areas {
			names[a.ID] = a.Name
		}
		return names, err
	}, TTL: 5 * time.Minute}

	in := &referral.Intake{
		Areas:    directory.Finder{Prefixes: prefixes},
		Store:    dynamo.NewReferrals(db, cfg.Tables),
		Calendar: calendar.Embedded(),
		Policy:   cfg.Policy,
		Now:      time.Now,
		NewID:    referral.NewID,
	}
	h := &intake.Handler{
		Intake:    in,
		Log:       lambdacontext.NewLogger(),
		Metrics:   metrics.New(os.Stdout),
		Budget:    8 * time.Second,
		AreaNames: areaNames,
	}
	// The link secret (the form's hidden token) and the patient-key secret are read once per
	// execution environment, both at once, when the first request that needs them arrives, not
	// during the cold start (docs/decisions.md). Their users are set here before Ready reports
	// success. A failed read answers that request 503 and is tried again by the next one.
	h.Ready = startup.Deferred(func(ctx context.Context) error {
		var formTokens *signedlink.Signer
		var keys *referral.Keyer
		err := startup.All(ctx, func(ctx context.Context) (err error) {
			formTokens, err = secrets.LinkSigner(ctx, sm, cfg.LinkSecretARN)
			return err
		}, func(ctx context.Context) error {
			patientSecret, err := secrets.PatientKeySecret(ctx, sm, cfg.PatientKeySecretARN)
			if err == nil {
				keys, err = referral.NewKeyer(patientSecret)
			}
			return err
		})
		if err != nil {
			return err
		}
		in.Keys, h.FormTokens = keys, formTokens
		return nil
	})
	lambda.Start(h.Handle)
	return nil
}
