package dynamo

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ipspc/referrals/shared/domain/directory"
	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/domain/worklist"
)

// The lead's reads (SPEC §10, §11), from template.yaml's Due and Waitlist indexes and the
// directory ("received last week" comes from the returns table: Returns.ReceivedBetween). They
// only read, except for the digest's weekly claim.
const (
	digestSK = "#DIGEST"
	// digestClaimTTL keeps a digest claim well past its week, then lets TTL remove it.
	digestClaimTTL = 60 * 24 * time.Hour
)

// WorklistAPI is the part of the DynamoDB client the worklist store uses.
type WorklistAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

var _ WorklistAPI = (*dynamodb.Client)(nil)

// Worklists reads an area's worklist and keeps the weekly digest's claims.
type Worklists struct {
	client WorklistAPI
	tables Tables
}

// NewWorklists returns the worklist store over the referrals and directory tables.
func NewWorklists(client WorklistAPI, tables Tables) *Worklists {
	return &Worklists{client: client, tables: tables}
}

// leadSpecialistItem is a specialist as the lead sees it, with its failing-address mark.
type leadSpecialistItem struct {
	directorySpecialistItem
	EmailFailing        bool   `json:"emailFailing"`
	EmailFailingAddress string `json:"emailFailingAddress"`
}

// bouncing reports whether the specialist's current address is marked failing: a mark on an
// address since corrected no longer counts (see bounces.go).
func (it leadSpecialistItem) bouncing() bool {
	return it.EmailFailing && strings.EqualFold(it.EmailFailingAddress, it.Email)
}

// Area returns an area's name and lead, or a not-found error, without its postcodes.
func (w *Worklists) Area(ctx context.Context, areaID string) (name string, lead directory.Person, err error) {
	out, err := w.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &w.tables.Directory, Key: itemKey(areaPK(areaID), areaSK), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return "", lead, fmt.Errorf("get area %s: %w", areaID, err)
	}
	if len(out.Item) == 0 {
		return "", lead, referral.Errorf(referral.CodeNotFound, "Page not found")
	}
	var it directoryAreaItem
	if err := unmarshalMap(out.Item, &it); err != nil {
		return "", lead, fmt.Errorf("decode area %s: %w", areaID, err)
	}
	return it.Name, directory.Person{Name: it.LeadName, Email: it.LeadEmail}, nil
}

// Snapshot reads an area's specialists (with their failing marks) and its open referrals: one
// Query of the directory, one Query of the area's partition of the Due index (every open referral
// with a specialist, whatever its deadline) and one of the Waitlist index, then consistent
// BatchGetItems of the referrals (the indexes are eventually consistent; a referral whose status
// moved on is left out by worklist.Build) projected to what the worklist shows: no NHS number, date
// of birth, contact details or notes are read. Its cost grows with the area's open referrals only.
func (w *Worklists) Snapshot(ctx context.Context, areaID, areaName string) (worklist.Snapshot, error) {
	s := worklist.Snapshot{AreaID: areaID, AreaName: areaName}
	specialists, err := w.specialists(ctx, areaID)
	if err != nil {
		return s, err
	}
	s.Specialists = specialists
	var keys []map[string]ddb.AttributeValue
	seen := map[string]bool{} // a referral assigned between the two Queries is in both
	for _, q := range []struct {
		index string
		key   expression.KeyConditionBuilder
	}{
		{dueIndex, expression.Key("dueShard").Equal(expression.Value(areaID))},
		{waitlistIndex, expression.Key("waitArea").Equal(expression.Value(areaID))},
	} {
		err := queryPKs(ctx, w.client, w.tables.Referrals, q.index, q.key, nil, func(pk string) error {
			if !seen[pk] {
				seen[pk] = true
				keys = append(keys, itemKey(pk, referralSK))
			}
			return nil
		})
		if err != nil {
			return s, fmt.Errorf("worklist of %s: %w", areaID, err)
		}
	}
	if s.Referrals, err = w.readReferrals(ctx, keys); err != nil {
		return s, fmt.Errorf("worklist of %s: %w", areaID, err)
	}
	return s, nil
}

// worklistProjection is what the worklist reads of a referral.
var worklistProjection = func() expression.ProjectionBuilder {
	p := expression.NamesList(expression.Name("referralId"))
	for _, n := range []string{"status", "area", "specialistId", "receivedAt", "contactBy", "meetBy", "events",
		"patient.givenName", "patient.familyName"} {
		p = p.AddNames(expression.Name(n))
	}
	return p
}()

// batchGetSize is DynamoDB's limit of keys per BatchGetItem.
const batchGetSize = 100

// readReferrals reads the referrals at keys, consistently, in batches, retrying unprocessed keys
// with backoff. A key with no item (deleted since the index saw it) is skipped.
func (w *Worklists) readReferrals(ctx context.Context, keys []map[string]ddb.AttributeValue) ([]referral.Referral, error) {
	expr, err := expression.NewBuilder().WithProjection(worklistProjection).Build()
	if err != nil {
		return nil, err
	}
	var out []referral.Referral
	for batch := range slices.Chunk(keys, batchGetSize) {
		pending := map[string]ddb.KeysAndAttributes{w.tables.Referrals: {
			Keys: batch, ConsistentRead: aws.Bool(true),
			ProjectionExpression: expr.Projection(), ExpressionAttributeNames: expr.Names(),
		}}
		for attempt := 0; len(pending[w.tables.Referrals].Keys) > 0; attempt++ {
			if attempt == batchWriteAttempts {
				return nil, fmt.Errorf("%d referrals still unread after %d attempts", len(pending[w.tables.Referrals].Keys), attempt)
			}
			if attempt > 0 {
				if err := sleep(ctx, backoff(attempt)); err != nil {
					return nil, err
				}
			}
			page, err := w.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
			if err != nil {
				return nil, fmt.Errorf("read referrals: %w", err)
			}
			for _, item := range page.Responses[w.tables.Referrals] {
				r, err := decodeReferral(item)
				if err != nil {
					return nil, err
				}
				out = append(out, r)
			}
			pending = page.UnprocessedKeys
		}
	}
	return out, nil
}

func (w *Worklists) specialists(ctx context.Context, areaID string) ([]worklist.Specialist, error) {
	var items []leadSpecialistItem
	if err := querySpecialists(ctx, w.client, w.tables.Directory, areaID, &items); err != nil {
		return nil, err
	}
	var out []worklist.Specialist
	for _, it := range items {
		out = append(out, worklist.Specialist{ID: it.SpecialistID, Name: it.Name, Caseload: it.Caseload,
			Capacity: it.Capacity, Active: it.Active, Bouncing: it.bouncing()})
	}
	return out, nil
}

// ClaimDigest claims the area's digest for an ISO week (worklist.DigestWeek): true for the first
// caller, false ever after, whatever the runs. The claim is written before the email is sent, so
// a failed send is not retried that week: a digest is a convenience, and a duplicate is worse
// than a gap (the worklist is always there).
func (w *Worklists) ClaimDigest(ctx context.Context, areaID, week string, now time.Time) (bool, error) {
	item, err := marshalMap(struct {
		PK        string `json:"pk"`
		SK        string `json:"sk"`
		ClaimedAt string `json:"claimedAt"`
		ExpiresAt int64  `json:"expiresAt"`
	}{worklist.DigestClaimKey(areaID, week), digestSK, now.UTC().Format(time.RFC3339), now.Add(digestClaimTTL).Unix()})
	if err != nil {
		return false, err
	}
	expr, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name(attrPK))).Build()
	if err != nil {
		return false, err
	}
	_, err = w.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &w.tables.Referrals, Item: item,
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(),
	})
	if directoryConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim digest of %s for %s: %w", areaID, week, err)
	}
	return true, nil
}

// ReleaseDigest gives up an area's claim for a week after its email failed, so the next run of
// the schedule tries again.
func (w *Worklists) ReleaseDigest(ctx context.Context, areaID, week string) error {
	_, err := w.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &w.tables.Referrals, Key: itemKey(worklist.DigestClaimKey(areaID, week), digestSK),
	})
	if err != nil {
		return fmt.Errorf("release digest of %s for %s: %w", areaID, week, err)
	}
	return nil
}
