// Command duebackfill is a one-off migration: it rewrites the Due index keys (dueShard, dueAt,
// dueKind) of referrals stored before the index became per area and began to hold every open
// referral with a specialist (docs/operations.md, "Due index backfill").
//
//	duebackfill [-referrals-table NAME] [-dry-run]
//
// The table is -referrals-table or REFERRALS_TABLE. It scans the whole table once; running it again
// rewrites nothing. AWS settings come from the SDK's usual sources (AWS_REGION, AWS_PROFILE,
// AWS_ENDPOINT_URL_DYNAMODB…).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ipspc/referrals/shared/adapters/dynamo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "duebackfill: %v\n", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("usage: duebackfill [-referrals-table NAME] [-dry-run]")

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("duebackfill", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	table := fs.String("referrals-table", os.Getenv("REFERRALS_TABLE"), "")
	dryRun := fs.Bool("dry-run", false, "")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected %q", errUsage, fs.Arg(0))
	}
	if *table == "" {
		return fmt.Errorf("%w: no table: give -referrals-table NAME or set REFERRALS_TABLE", errUsage)
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return errors.New("no AWS region: set AWS_REGION (the service runs in eu-west-2)")
	}
	done, err := dynamo.BackfillDue(ctx, dynamodb.NewFromConfig(cfg), *table, *dryRun)
	verb := "rewritten"
	if *dryRun {
		verb = "to rewrite (dry run)"
	}
	if _, perr := fmt.Fprintf(stdout, "%d referrals scanned: %d due entries %s, %d changed meanwhile (run again)\n",
		done.Referrals, done.Rewritten, verb, done.Changed); perr != nil && err == nil {
		err = perr
	}
	return err
}
