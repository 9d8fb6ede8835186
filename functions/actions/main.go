// Command actions is ActionsFunction: the pages specialists open through the signed links in
// their emails, and the buttons on them that record contact, the first meeting and a close
// (SPEC §4 "Specialist pages"). It only wires: environment → AWS clients → adapters → service →
// handler → lambda.Start.
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
	"github.com/ipspc/referrals/shared/domain/worklist"
	"github.com/ipspc/referrals/shared/edges/actions"
	"github.com/ipspc/referrals/shared/edges/lead"
	"github.com/ipspc/referrals/shared/lib/calendar"
	"github.com/ipspc/referrals/shared/lib/metrics"
	"github.com/ipspc/referrals/shared/lib/settings"
)

func main() {
	if err := run(); err != nil {
		// Start-up failed before the runtime loop: Lambda reports it as an init error.
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("actions start-up failed", slog.String("error", err.Error()))
		os.Exit(1)
	}
}

func run() error {
	cfg, err := actions.ConfigFromEnv(os.Getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	env := settings.New(os.Getenv)
	returnsTable := env.Required("RETURNS_TABLE") // the lead's report (SPEC §12)
	if err := env.Err(); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	ctx := context.Background()
	awsCfg, err := awsenv.Config(os.Getenv)
	if err != nil {
		return fmt.Errorf("aws config: %w", err)
	}

	// The key is read once per execution environment (with a time limit); a rotation reaches new
	// environments. The notifier signs with the same secret, read the same way.
	sm, err := secrets.NewClient(awsCfg)
	if err != nil {
		return err
	}
	signer, err := secrets.LinkSigner(ctx, sm, cfg.LinkSecretARN)
	if err != nil {
		return err
	}

	db := dynamo.Bind(dynamodb.NewFromConfig(awsCfg))
	waitlist := &referral.Waitlist{
		Store:    dynamo.NewReferrals(db, cfg.Tables),
		Calendar: calendar.Embedded(),
		Policy:   cfg.Policy,
		Now:      time.Now,
	}
	progress := dynamo.NewProgress(db, cfg.Tables)
	progress.ClosedRetention = cfg.ClosedRetention
	// A close or a withdraw frees capacity: the area's oldest waitlisted referral takes it (SPEC §5).
	drain := referral.DrainFunc(func(ctx context.Context, area string) error {
		_, err := waitlist.Drain(ctx, area)
		return err
	})
	worklists := dynamo.NewWorklists(db, cfg.Tables)
	h := &actions.Handler{
		Links:         signer,
		Progress:      &referral.Progress{Store: progress, Drain: drain, Now: time.Now},
		ReferrerLinks: signer,
		Referrers:     &referral.Referrers{Store: progress, Drain: drain, Now: time.Now},
		Areas:         worklists,
		Metrics:       metrics.New(os.Stdout),
		Log:           lambdacontext.NewLogger(),
		Now:           time.Now,
		Budget:        8 * time.Second,
	}
	// The area lead's worklist (SPEC §10) shares this function: same table access, same secret.
	moves := dynamo.NewMoves(db, cfg.Tables)
	prefixes := &directory.Cached[directory.Prefixes]{Load: dynamo.NewDirectory(db, cfg.Tables.Directory).Prefixes, TTL: 5 * time.Minute}
	leads := &lead.Handler{
		Links: signer,
		Store: worklists,
		// Reassign and transfer: the transition function, one transaction, then the drain of the
		// area a unit left (SPEC §9, §10).
		Moves: &worklist.Moves{
			Store: moves, Areas: directory.Finder{Prefixes: prefixes}, Names: moves, Drain: drain,
			Calendar: calendar.Embedded(), Policy: cfg.Policy, Now: time.Now, Attempts: 5,
		},
		Returns: dynamo.NewReturns(db, returnsTable),
		Log:     h.Log,
		Now:     time.Now,
		Budget:  h.Budget,
	}
	lambda.Start(lead.Dispatch(leads.Handle, h.Handle))
	return nil
}
