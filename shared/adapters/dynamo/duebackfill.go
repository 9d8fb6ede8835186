package dynamo

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// BackfillAPI is the part of the DynamoDB client the Due index backfill uses.
type BackfillAPI interface {
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// DueBackfill counts what BackfillDue found and did.
type DueBackfill struct {
	Referrals int // referral items scanned
	Rewritten int // due entries rewritten (or, on a dry run, that would be)
	Changed   int // changed by a live write between the scan and the rewrite: run again
}

// dueInputs are the attributes dueOf reads; a rewrite is conditioned on them as scanned.
var dueInputs = []string{"status", "area", "contactBy", "meetBy"}

// BackfillDue rewrites dueShard, dueAt and dueKind of every referral whose stored entry is not the
// one dueOf decides: a one-off migration of referrals written while the Due index had one
// partition ("DUE") and held only referrals with a deadline pending (docs/operations.md). It scans
// the whole table, so it is for operators, not the service. Each rewrite is conditioned on the
// status, area and deadlines scanned: a referral a live write changed meanwhile already has the
// entry that write decided, and is counted as Changed. Running it again rewrites nothing.
func BackfillDue(ctx context.Context, client BackfillAPI, table string, dryRun bool) (DueBackfill, error) {
	var out DueBackfill
	filter, err := expression.NewBuilder().WithFilter(expression.Name(attrSK).Equal(expression.Value(referralSK))).Build()
	if err != nil {
		return out, err
	}
	pages := dynamodb.NewScanPaginator(client, &dynamodb.ScanInput{
		TableName: aws.String(table), FilterExpression: filter.Filter(),
		ExpressionAttributeNames: filter.Names(), ExpressionAttributeValues: filter.Values(),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return out, fmt.Errorf("scan referrals: %w", err)
		}
		for _, item := range page.Items {
			out.Referrals++
			r, err := decodeReferral(item)
			if err != nil {
				return out, err
			}
			stored := dueEntry{stringAttr(item, "dueShard"), stringAttr(item, "dueAt"), stringAttr(item, "dueKind")}
			if stored == dueOf(r) {
				continue
			}
			if dryRun {
				out.Rewritten++
				continue
			}
			cond := expression.AttributeExists(expression.Name(attrPK))
			for _, name := range dueInputs {
				if v, ok := item[name].(*ddb.AttributeValueMemberS); ok {
					cond = cond.And(expression.Name(name).Equal(expression.Value(v.Value)))
				} else {
					cond = cond.And(expression.AttributeNotExists(expression.Name(name)))
				}
			}
			err = conditionalUpdate(ctx, client, table, itemKey(stringAttr(item, attrPK), referralSK), cond, withDue(expression.UpdateBuilder{}, r))
			var failed *ddb.ConditionalCheckFailedException
			switch {
			case errors.As(err, &failed):
				out.Changed++
			case err != nil:
				return out, fmt.Errorf("rewrite due entry of %s: %w", r.ID, err)
			default:
				out.Rewritten++
			}
		}
	}
	return out, nil
}

func stringAttr(item map[string]ddb.AttributeValue, name string) string {
	if v, ok := item[name].(*ddb.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}
