// Command report prints SPEC §12's programme returns for every area or one:
//
//	report -from YYYY-MM -to YYYY-MM [-area ID] [-format csv|json|html] [-table NAME] [-returns-table NAME]
//	report -rebuild [-table NAME] [-returns-table NAME] [-referrals-table NAME]
//
// The tables are found as for the directory command: -table or DIRECTORY_TABLE, -returns-table or
// RETURNS_TABLE, -referrals-table or REFERRALS_TABLE; AWS settings come from the SDK's usual sources
// (AWS_ENDPOINT_URL_DYNAMODB for DynamoDB Local). A report reads the returns table only: per area,
// one Query per month asked for and the snapshot of the month before (docs/returns.md), never a
// scan. -rebuild is the runbook's repair (docs/operations.md): it scans the referrals table once,
// rewrites every referral's facts (overwrites by key) and then every month-end snapshot.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ipspc/referrals/shared/adapters/dynamo"
	"github.com/ipspc/referrals/shared/domain/returns"
	"github.com/ipspc/referrals/shared/render/web"
)

const usage = `Usage: report -from YYYY-MM -to YYYY-MM [-area ID] [-format csv|json|html] [-table NAME] [-returns-table NAME]
       report -rebuild [-table NAME] [-returns-table NAME] [-referrals-table NAME]

Prints the programme returns (SPEC §12) per area and month: counts only. -format html needs -area.
-rebuild rewrites the returns table from the referrals (a full scan: run it off-peak).
Tables: -table or DIRECTORY_TABLE, -returns-table or RETURNS_TABLE, -referrals-table or REFERRALS_TABLE.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		var u usageError
		if errors.As(err, &u) {
			fmt.Fprint(os.Stderr, usage)
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError struct{ error }

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	from := fs.String("from", "", "")
	to := fs.String("to", "", "")
	area := fs.String("area", "", "")
	format := fs.String("format", "csv", "")
	table := fs.String("table", os.Getenv("DIRECTORY_TABLE"), "")
	returnsTable := fs.String("returns-table", os.Getenv("RETURNS_TABLE"), "")
	referralsTable := fs.String("referrals-table", os.Getenv("REFERRALS_TABLE"), "")
	rebuild := fs.Bool("rebuild", false, "")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if *rebuild {
		if *table == "" || *returnsTable == "" || *referralsTable == "" {
			return usageError{errors.New("table: -rebuild needs -table, -returns-table and -referrals-table (or DIRECTORY_TABLE, RETURNS_TABLE and REFERRALS_TABLE)")}
		}
		client, err := newClient(ctx)
		if err != nil {
			return err
		}
		return rebuildReturns(ctx, client, *table, *returnsTable, *referralsTable, time.Now(), stdout)
	}
	if _, err := returns.Months(*from, *to); err != nil {
		return usageError{err}
	}
	switch *format {
	case "csv", "json":
	case "html":
		if *area == "" {
			return usageError{errors.New("area: -format html is one area's page: give -area ID")}
		}
	default:
		return usageError{fmt.Errorf("format: %q is not csv, json or html", *format)}
	}
	if *table == "" || *returnsTable == "" {
		return usageError{errors.New("table: give -table and -returns-table (or DIRECTORY_TABLE and RETURNS_TABLE)")}
	}
	client, err := newClient(ctx)
	if err != nil {
		return err
	}
	return report(ctx, client, *table, *returnsTable, *area, *from, *to, *format, stdout)
}

func newClient(ctx context.Context) (*dynamodb.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("no AWS region: set AWS_REGION (the service runs in eu-west-2)")
	}
	return dynamodb.NewFromConfig(cfg), nil
}

// areaIDs returns every area's id, sorted.
func areaIDs(ctx context.Context, dir *dynamo.Directory) ([]string, error) {
	all, err := dir.Areas(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, a := range all {
		ids = append(ids, a.ID)
	}
	slices.Sort(ids)
	return ids, nil
}

func report(ctx context.Context, client *dynamodb.Client, directoryTable, returnsTable, area, from, to, format string, w io.Writer) error {
	dir := dynamo.NewDirectory(client, directoryTable)
	areas, name := []string{area}, area
	if area == "" {
		var err error
		if areas, err = areaIDs(ctx, dir); err != nil {
			return err
		}
	} else {
		a, err := dir.Area(ctx, area)
		if err != nil {
			return fmt.Errorf("area %q: %w", area, err)
		}
		if a.Name != "" {
			name = a.Name
		}
	}
	rows, err := returns.Read(ctx, dynamo.NewReturns(client, returnsTable), areas, from, to)
	if err != nil {
		return err
	}
	switch format {
	case "json":
		return returns.WriteJSON(w, rows)
	case "html":
		return web.RenderReport(w, web.ReportPage{AreaName: name, From: from, To: to, Rows: rows})
	}
	return returns.WriteCSV(w, rows)
}

// rebuildReturns rewrites the returns table from the referrals: every referral's facts (puts that
// overwrite by key: what the stream wrote is written again, what it missed is added), then every
// area's snapshots from the earliest month with facts.
func rebuildReturns(ctx context.Context, client *dynamodb.Client, directoryTable, returnsTable, referralsTable string, now time.Time, w io.Writer) error {
	facts, err := readFacts(ctx, client, referralsTable)
	if err != nil {
		return err
	}
	store := dynamo.NewReturns(client, returnsTable)
	if err := store.Write(ctx, facts, nil); err != nil {
		return err
	}
	areas, err := areaIDs(ctx, dynamo.NewDirectory(client, directoryTable))
	if err != nil {
		return err
	}
	first := returns.Month(now)
	for _, f := range facts {
		first = min(first, f.Month)
	}
	n, err := returns.Resnapshot(ctx, store, areas, first, now)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "rebuilt %d facts and %d snapshots from %s\n", len(facts), n, first)
	return err
}

// readFacts scans the referrals table for referral items and computes each one's facts. The scan
// projects only the key; each referral is then read through the adapter, which owns its format.
func readFacts(ctx context.Context, client *dynamodb.Client, table string) ([]returns.Fact, error) {
	proj := expression.NamesList(expression.Name("pk"), expression.Name("sk"))
	expr, err := expression.NewBuilder().WithProjection(proj).Build()
	if err != nil {
		return nil, err
	}
	store := dynamo.NewProgress(client, dynamo.Tables{Referrals: table})
	var facts []returns.Fact
	p := dynamodb.NewScanPaginator(client, &dynamodb.ScanInput{TableName: aws.String(table),
		ProjectionExpression: expr.Projection(), ExpressionAttributeNames: expr.Names()})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("scan referrals: %w", err)
		}
		for _, item := range page.Items {
			var pk, sk string
			if err := attrString(item, "pk", &pk); err != nil {
				return nil, err
			}
			_ = attrString(item, "sk", &sk)
			id, ok := strings.CutPrefix(pk, "REFERRAL#")
			if !ok || sk != "#REFERRAL" {
				continue
			}
			r, err := store.Get(ctx, id)
			if err != nil {
				return nil, err
			}
			facts = append(facts, returns.Facts(r)...)
		}
	}
	return facts, nil
}
