package dynamo

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/lib/calendar"
)

// dueIndex is the GSI of an area's open, assigned referrals (partition dueShard = the area), sorted
// by the next deadline still to meet (dueAt). It serves both the reminders sweep (dueAt up to a
// day, per area) and the lead's worklist (the whole partition), so a referral writes one index
// entry, not one per reader (docs/decisions.md, "One index entry per referral"). A notification
// record held after an unknown outcome has an entry of its own until it is sent (Notifications.Hold).
const dueIndex = "Due"

// Kinds of deadline in the Due index.
const (
	dueContact = "contact"
	dueMeeting = "meeting"
	// dueOutcomeCheck is the 16-week check of the first job's outcome (SPEC §9), due until an
	// outcome is recorded; the outcome-check sweep reads it.
	dueOutcomeCheck = "outcome-check"
)

// noDeadline is dueAt of an open, assigned referral with no deadline pending (engaged, in work): it
// sorts after every date, so the sweep's dueAt ≤ day never reaches it, while the lead's worklist
// still finds it in its area's partition.
const noDeadline = "9999-12-31"

// dueEntry is a referral's entry in the Due index; the zero value is none.
type dueEntry struct {
	Shard, At, Kind string
}

// dueOf is the one place that decides a referral's Due entry, from the referral as a write leaves
// it: every open referral with a specialist is in its area's partition, at its next deadline
// (contactBy until contact, then meetBy until a meeting; in work, the first job's outcome check
// until an outcome is recorded) or at noDeadline; a waitlisted one is in the
// Waitlist index instead, and a closed or withdrawn one in neither.
func dueOf(r referral.Referral) dueEntry {
	switch r.Status {
	case referral.StatusAssigned:
		return dueEntry{Shard: r.Area, At: r.ContactBy.String(), Kind: dueContact}
	case referral.StatusContacted:
		return dueEntry{Shard: r.Area, At: r.MeetBy.String(), Kind: dueMeeting}
	case referral.StatusInWork:
		if day, ok := r.OutcomeCheckPending(); ok {
			return dueEntry{Shard: r.Area, At: day.String(), Kind: dueOutcomeCheck}
		}
		return dueEntry{Shard: r.Area, At: noDeadline}
	case referral.StatusEngaged:
		return dueEntry{Shard: r.Area, At: noDeadline}
	}
	return dueEntry{}
}

// withDue adds to u the due attributes of r as the write leaves it (dueOf): set, or removed.
func withDue(u expression.UpdateBuilder, r referral.Referral) expression.UpdateBuilder {
	d := dueOf(r)
	for _, a := range []struct{ name, value string }{{"dueShard", d.Shard}, {"dueAt", d.At}, {"dueKind", d.Kind}} {
		if a.value == "" {
			u = u.Remove(expression.Name(a.name))
		} else {
			u = u.Set(expression.Name(a.name), expression.Value(a.value))
		}
	}
	return u
}

// DueAPI is the part of the DynamoDB client the reminders sweep's queries use.
type DueAPI interface {
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// AreaListTTL is how long the sweep's list of areas is used before the directory is read again.
// The sweep runs hourly, so each run in practice reads it once; a new area is seen within this
// long.
const AreaListTTL = 5 * time.Minute

// Due answers the sweep's questions from the Due and Waitlist indexes.
type Due struct {
	client DueAPI
	tables Tables
	// Consumed, when set, is told the capacity each call consumed (benchmarks and tests).
	Consumed func(op string, cc ddb.ConsumedCapacity)

	mu      sync.Mutex
	areas   []string
	areasAt time.Time
}

// NewDue returns the due-referrals finder on the referrals table, with the directory table it
// lists the areas from.
func NewDue(client DueAPI, tables Tables) *Due {
	return &Due{client: client, tables: tables}
}

// DueBy calls fn once with each referral whose next deadline is on or before day, or that has a
// notice held after an unknown outcome whose lease ends by then (Notifications.Hold): one Query of
// each area's partition of the Due index bounded by day, so it reads only the referrals that are
// due (and the directory's few areas).
func (d *Due) DueBy(ctx context.Context, day calendar.Date, fn func(referralID string) error) error {
	areas, err := d.areaIDs(ctx)
	if err != nil {
		return err
	}
	seen := map[string]bool{} // a referral's own entry and its held notices' share its pk
	for _, area := range areas {
		key := expression.Key("dueShard").Equal(expression.Value(area)).
			And(expression.Key("dueAt").LessThanEqual(expression.Value(day.String())))
		err := queryPKs(ctx, d.client, d.tables.Referrals, dueIndex, key, func(cc *ddb.ConsumedCapacity) { d.consumed("due", cc) }, func(pk string) error {
			if seen[pk] {
				return nil
			}
			seen[pk] = true
			return fn(strings.TrimPrefix(pk, referralPrefix))
		})
		if err != nil {
			return fmt.Errorf("due referrals in %s: %w", area, err)
		}
	}
	return nil
}

// areaIDs lists the directory's areas, as read at most AreaListTTL ago.
func (d *Due) areaIDs(ctx context.Context) ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.areas != nil && time.Since(d.areasAt) < AreaListTTL {
		return d.areas, nil
	}
	var items []struct {
		AreaID string `json:"areaId"`
	}
	if err := scanItems(ctx, d.client, d.tables.Directory, expression.Name(attrSK).Equal(expression.Value(areaSK)), &items); err != nil {
		return nil, fmt.Errorf("list areas: %w", err)
	}
	areas := make([]string, 0, len(items))
	for _, it := range items {
		areas = append(areas, it.AreaID)
	}
	d.areas, d.areasAt = areas, time.Now()
	return areas, nil
}

// queryPKs calls fn with the pk of every referral item of index that meets key, telling consumed
// (when not nil) what each page cost.
func queryPKs(ctx context.Context, client dynamodb.QueryAPIClient, table, index string, key expression.KeyConditionBuilder,
	consumed func(*ddb.ConsumedCapacity), fn func(pk string) error) error {
	expr, err := expression.NewBuilder().WithKeyCondition(key).Build()
	if err != nil {
		return err
	}
	in := &dynamodb.QueryInput{
		TableName: &table, IndexName: aws.String(index),
		KeyConditionExpression: expr.KeyCondition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}
	if consumed != nil {
		in.ReturnConsumedCapacity = ddb.ReturnConsumedCapacityTotal
	}
	for p := dynamodb.NewQueryPaginator(client, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("query %s: %w", index, err)
		}
		if consumed != nil {
			consumed(page.ConsumedCapacity)
		}
		var keys []struct {
			PK string `json:"pk"`
		}
		if err := unmarshalListOfMaps(page.Items, &keys); err != nil {
			return fmt.Errorf("decode %s keys: %w", index, err)
		}
		for _, k := range keys {
			if len(k.PK) <= len(referralPrefix) || !strings.HasPrefix(k.PK, referralPrefix) {
				continue
			}
			if err := fn(k.PK); err != nil {
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
		TableName: &d.tables.Referrals, IndexName: aws.String(waitlistIndex),
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
