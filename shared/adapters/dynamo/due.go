package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ipspc/referrals/shared/lib/calendar"
)

// dueIndex is the sparse GSI of referrals with a deadline still to meet, keyed by that deadline.
const dueIndex = "Due"

// DueAPI is the part of the DynamoDB client the reminders sweep's queries use.
type DueAPI interface {
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// Due answers the sweep's questions from the Due and Waitlist indexes.
type Due struct {
	client DueAPI
	table  string
	// Consumed, when set, is told the capacity each call consumed (benchmarks and tests).
	Consumed func(op string, cc ddb.ConsumedCapacity)
}

// NewDue returns the due-referrals finder on the referrals table.
func NewDue(client DueAPI, referralsTable string) *Due {
	return &Due{client: client, table: referralsTable}
}

// DueBy calls fn with each referral whose next deadline is on or before day: one Query of the
// sparse index, so it reads only the referrals that are due.
func (d *Due) DueBy(ctx context.Context, day calendar.Date, fn func(referralID string) error) error {
	key := expression.Key("dueShard").Equal(expression.Value(dueShard)).
		And(expression.Key("dueAt").LessThanEqual(expression.Value(day.String())))
	expr, err := expression.NewBuilder().WithKeyCondition(key).Build()
	if err != nil {
		return err
	}
	in := &dynamodb.QueryInput{
		TableName: &d.table, IndexName: aws.String(dueIndex),
		KeyConditionExpression: expr.KeyCondition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnConsumedCapacity: ddb.ReturnConsumedCapacityTotal,
	}
	for p := dynamodb.NewQueryPaginator(d.client, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("query due referrals: %w", err)
		}
		d.consumed("due", page.ConsumedCapacity)
		var keys []struct {
			PK string `json:"pk"`
		}
		if err := unmarshalListOfMaps(page.Items, &keys); err != nil {
			return fmt.Errorf("decode due referrals: %w", err)
		}
		for _, k := range keys {
			if len(k.PK) <= len(referralPrefix) {
				continue
			}
			if err := fn(k.PK[len(referralPrefix):]); err != nil {
				return err
			}
		}
	}
	return nil
}

// WaitlistCounts counts waitlisted referrals per area with one Scan of the sparse Waitlist index
// (only waitlisted referrals are in it).
func (d *Due) WaitlistCounts(ctx context.Context) (map[string]int, error) {
	in := &dynamodb.ScanInput{
		TableName: &d.table, IndexName: aws.String(waitlistIndex),
		ProjectionExpression:   aws.String("waitArea"),
		ReturnConsumedCapacity: ddb.ReturnConsumedCapacityTotal,
	}
	counts := map[string]int{}
	for p := dynamodb.NewScanPaginator(d.client, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("scan waitlist: %w", err)
		}
		d.consumed("waitlist", page.ConsumedCapacity)
		for _, item := range page.Items {
			if a, ok := item["waitArea"].(*ddb.AttributeValueMemberS); ok {
				counts[a.Value]++
			}
		}
	}
	return counts, nil
}

func (d *Due) consumed(op string, cc *ddb.ConsumedCapacity) {
	if d.Consumed != nil && cc != nil {
		d.Consumed(op, *cc)
	}
}
