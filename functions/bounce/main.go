// Command bounce is BounceFunction: on the SNS topic that receives the SES events of the
// service's configuration set, it counts bounces, complaints, rejects and delivery delays, and
// marks a specialist's or area lead's address failing in the directory after a permanent bounce
// or a complaint. It only wires: environment → AWS clients → adapters → handler → lambda.Start.
package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ipspc/referrals/shared/adapters/awsenv"
	"github.com/ipspc/referrals/shared/adapters/dynamo"
	"github.com/ipspc/referrals/shared/edges/bounce"
	"github.com/ipspc/referrals/shared/lib/metrics"
)

func main() {
	if err := run(); err != nil {
		// Start-up failed before the runtime loop: Lambda reports it as an init error.
		slog.New(slog.NewJSONHandler(os.Stderr, nil)).Error("bounce start-up failed", slog.String("error", err.Error()))
		os.Exit(1)
	}
}

func run() error {
	table := os.Getenv("DIRECTORY_TABLE")
	if table == "" {
		return fmt.Errorf("configuration: %w", errors.New("DIRECTORY_TABLE is not set"))
	}
	awsCfg, err := awsenv.Config(os.Getenv)
	if err != nil {
		return fmt.Errorf("aws config: %w", err)
	}
	h := &bounce.Handler{
		Directory: dynamo.NewDirectory(dynamodb.NewFromConfig(awsCfg), table),
		Metrics:   metrics.New(os.Stdout),
		Log:       lambdacontext.NewLogger(),
		Now:       time.Now,
	}
	lambda.Start(h.Handle)
	return nil
}
