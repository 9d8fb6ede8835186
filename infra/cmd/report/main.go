// Command report prints SPEC §12's programme returns for every area or one:
//
//	report -from YYYY-MM -to YYYY-MM [-area ID] [-format csv|json|html] [-table NAME] [-referrals-table NAME]
//
// The tables are found as for the directory command: -table or DIRECTORY_TABLE, -referrals-table
// or REFERRALS_TABLE; AWS settings come from the SDK's usual sources (AWS_ENDPOINT_URL_DYNAMODB for
// DynamoDB Local). For now it reads every referral (a full scan): the monthly facts table that lets
// a report read only the months asked for is not built yet (docs/returns.md).
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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ipspc/referrals/shared/adapters/dynamo"
	"github.com/ipspc/referrals/shared/domain/returns"
	"github.com/ipspc/referrals/shared/render/web"
)

const usage = `Usage: report -from YYYY-MM -to YYYY-MM [-area ID] [-format csv|json|html] [-table NAME] [-referrals-table NAME]

Prints the programme returns (SPEC §12) per area and month: counts only. -format html needs -area.
Tables: -table or DIRECTORY_TABLE, -referrals-table or REFERRALS_TABLE.
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
	referralsTable := fs.String("referrals-table", os.Getenv("REFERRALS_TABLE"), "")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
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
	if *table == "" || *referralsTable == "" {
		return usageError{errors.New("table: give -table and -referrals-table (or DIRECTORY_TABLE and REFERRALS_TABLE)")}
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return errors.New("no AWS region: set AWS_REGION (the service runs in eu-west-2)")
	}
	client := dynamodb.NewFromConfig(cfg)
	return report(ctx, client, *table, *referralsTable, *area, *from, *to, *format, stdout)
}

func report(ctx context.Context, client *dynamodb.Client, directoryTable, referralsTable, area, from, to, format string, w io.Writer) error {
	dir := dynamo.NewDirectory(client, directoryTable)
	areas, name := []string{area}, area
	if area == "" {
		all, err := dir.Areas(ctx)
		if err != nil {
			return err
		}
		areas = nil
		for _, a := range all {
			areas = append(areas, a.ID)
		}
		slices.Sort(areas)
	} else {
		a, err := dir.Area(ctx, area)
		if err != nil {
			return fmt.Errorf("area %q: %w", area, err)
		}
		if a.Name != "" {
			name = a.Name
		}
	}
	facts, err := readFacts(ctx, client, referralsTable)
	if err != nil {
		return err
	}
	rows, err := returns.Rows(facts, areas, from, to)
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
