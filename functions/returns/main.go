// Command returns is ReturnsFunction: on the referrals table's stream it keeps the programme
// returns' facts per area and month, and on a daily schedule it writes the month-end level
// snapshots (SPEC §12, docs/returns.md). It only wires.
package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ipspc/referrals/shared/adapters/awsenv"
	"github.com/ipspc/referrals/shared/adapters/dynamo"
	"github.com/ipspc/referrals/shared/edges/tally"
	"github.com/ipspc/referrals/shared/lib/settings"
)

func main() {
	if err := run(); err != nil {
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("returns start-up failed", slog.String("error", err.Error()))
		os.Exit(1)
	}
}

func run() error {
	env := settings.New(os.Getenv)
	returnsTable, directoryTable := env.Required("RETURNS_TABLE"), env.Required("DIRECTORY_TABLE")
	if err := env.Err(); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	awsCfg, err := awsenv.Config(os.Getenv)
	if err != nil {
		return fmt.Errorf("aws config: %w", err)
	}
	db := dynamodb.NewFromConfig(awsCfg)
	store := dynamo.NewReturns(db, returnsTable)
	h := &tally.Handler{
		Ledger:    store,
		Decode:    dynamo.ReferralFromImage,
		Snapshots: store,
		Areas:     dynamo.NewDirectory(db, directoryTable),
		Log:       lambdacontext.NewLogger(),
	}
	lambda.Start(h.Handle)
	return nil
}
