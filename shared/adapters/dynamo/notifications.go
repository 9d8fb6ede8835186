package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ipspc/referrals/shared/domain/notification"
	"github.com/ipspc/referrals/shared/domain/referral"
)

// NotificationsAPI is the part of the DynamoDB client the notification store uses.
type NotificationsAPI interface {
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Notifications keeps one record per email kind per referral, beside the referral item.
type Notifications struct {
	client NotificationsAPI
	table  string
	// Lease is how long a claim blocks other senders: a claim older than this was abandoned. A
	// sender that crashed mid-send, like one whose send timed out (Hold), left an email SES may
	// still deliver, so the lease is at least notification.UnknownOutcomeHold (SPEC §7).
	Lease time.Duration
	// Retention is how long a notification record is kept (TTL): at least as long as a closed
	// referral is kept, so a record never disappears before its referral.
	Retention time.Duration
	// Consumed, when set, is told the capacity each read consumed (benchmarks and tests).
	Consumed func(op string, cc ddb.ConsumedCapacity)
}

// NewNotifications returns the notification store on the referrals table.
func NewNotifications(client NotificationsAPI, referralsTable string) *Notifications {
	return &Notifications{client: client, table: referralsTable, Lease: notification.UnknownOutcomeHold + time.Minute, Retention: 800 * 24 * time.Hour}
}

const (
	notificationSending = "sending"
	notificationUnknown = "unknown" // the send's outcome is unknown: held, never resent within the lease
	notificationSent    = "sent"
)

type notificationItem struct {
	PK        string `json:"pk"`
	SK        string `json:"sk"`
	Kind      string `json:"kind"`
	Audience  string `json:"audience,omitempty"`
	Status    string `json:"status"`
	Claimant  string `json:"claimant"`
	ClaimedAt int64  `json:"claimedAt"`
	MessageID string `json:"messageId,omitempty"`
	SentAt    int64  `json:"sentAt,omitempty"`
	ExpiresAt int64  `json:"expiresAt"`
}

// noticeSK is the notice's sort key: NOTIFIED#<kind>, and #<audience> for a kind with more than
// one recipient (the first release's records have no audience, and keep their keys).
func noticeSK(n notification.Notice) string {
	if n.Audience == "" {
		return notifiedPrefix + string(n.Kind)
	}
	return notifiedPrefix + string(n.Kind) + "#" + string(n.Audience)
}

// Load reads the referral and its notification records with one consistent Query on its partition.
func (n *Notifications) Load(ctx context.Context, referralID string) (referral.Referral, map[notification.Notice]bool, error) {
	key := expression.Key(attrPK).Equal(expression.Value(referralPK(referralID)))
	expr, err := expression.NewBuilder().WithKeyCondition(key).Build()
	if err != nil {
		return referral.Referral{}, nil, err
	}
	in := &dynamodb.QueryInput{
		TableName: &n.table, KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(), ConsistentRead: aws.Bool(true),
		ReturnConsumedCapacity: ddb.ReturnConsumedCapacityTotal,
	}
	var r referral.Referral
	found := false
	sent := map[notification.Notice]bool{}
	for p := dynamodb.NewQueryPaginator(n.client, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return r, nil, fmt.Errorf("load referral %s: %w", referralID, err)
		}
		if n.Consumed != nil && page.ConsumedCapacity != nil {
			n.Consumed("load", *page.ConsumedCapacity)
		}
		for _, item := range page.Items {
			sk, _ := item[attrSK].(*ddb.AttributeValueMemberS)
			switch {
			case sk == nil:
			case sk.Value == referralSK:
				if r, err = decodeReferral(item); err != nil {
					return r, nil, err
				}
				found = true
			case strings.HasPrefix(sk.Value, notifiedPrefix):
				var it notificationItem
				if err := unmarshalMap(item, &it); err != nil {
					return r, nil, fmt.Errorf("decode notification of %s: %w", referralID, err)
				}
				sent[notification.Notice{Kind: notification.Kind(it.Kind), Audience: notification.Audience(it.Audience)}] = it.Status == notificationSent
			}
		}
	}
	if !found {
		return r, nil, referral.Errorf(referral.CodeNotFound, "no referral %s", referralID)
	}
	return r, sent, nil
}

// Claim writes a "sending" record unless one is sent or held by a live claim.
func (n *Notifications) Claim(ctx context.Context, referralID string, notice notification.Notice, claimant string, now time.Time) (bool, error) {
	kind := notice.Kind
	av, err := marshalMap(notificationItem{
		PK: referralPK(referralID), SK: noticeSK(notice), Kind: string(kind), Audience: string(notice.Audience), Status: notificationSending,
		Claimant: claimant, ClaimedAt: now.Unix(), ExpiresAt: now.Add(n.Retention).Unix(),
	})
	if err != nil {
		return false, err
	}
	abandoned := expression.Name("status").In(expression.Value(notificationSending), expression.Value(notificationUnknown)).
		And(expression.Name("claimedAt").LessThan(expression.Value(now.Add(-n.Lease).Unix())))
	expr, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name(attrPK)).Or(abandoned)).Build()
	if err != nil {
		return false, err
	}
	_, err = n.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &n.table, Item: av,
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValuesOnConditionCheckFailure: ddb.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var failed *ddb.ConditionalCheckFailedException
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &failed):
		var old notificationItem
		if err := unmarshalMap(failed.Item, &old); err == nil {
			switch old.Status {
			case notificationSent:
				return false, nil
			case notificationUnknown:
				return false, notification.ErrOutcomePending
			}
		}
		return false, notification.ErrClaimHeld
	default:
		return false, fmt.Errorf("claim %s email for %s: %w", kind, referralID, err)
	}
}

// Confirm marks the record sent and appends the audit event to the referral, in one transaction.
func (n *Notifications) Confirm(ctx context.Context, referralID string, notice notification.Notice, claimant, messageID string, event referral.Event) error {
	kind := notice.String()
	mine := expression.Name("claimant").Equal(expression.Value(claimant))
	sentExpr, err := expression.NewBuilder().WithCondition(mine).WithUpdate(
		expression.Set(expression.Name("status"), expression.Value(notificationSent)).
			Set(expression.Name("messageId"), expression.Value(messageID)).
			Set(expression.Name("sentAt"), expression.Value(event.At.Unix()))).Build()
	if err != nil {
		return err
	}
	eventExpr, err := expression.NewBuilder().WithCondition(expression.AttributeExists(expression.Name(attrPK))).WithUpdate(
		expression.Set(expression.Name("events"), expression.ListAppend(expression.Name("events"), expression.Value(eventList(event))))).Build()
	if err != nil {
		return err
	}
	_, err = n.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddb.TransactWriteItem{
		{Update: &ddb.Update{TableName: &n.table, Key: itemKey(referralPK(referralID), noticeSK(notice)),
			ConditionExpression: sentExpr.Condition(), UpdateExpression: sentExpr.Update(),
			ExpressionAttributeNames: sentExpr.Names(), ExpressionAttributeValues: sentExpr.Values()}},
		{Update: &ddb.Update{TableName: &n.table, Key: itemKey(referralPK(referralID), referralSK),
			ConditionExpression: eventExpr.Condition(), UpdateExpression: eventExpr.Update(),
			ExpressionAttributeNames: eventExpr.Names(), ExpressionAttributeValues: eventExpr.Values()}},
	}})
	if err != nil {
		return fmt.Errorf("confirm %s email for %s: %w", kind, referralID, err)
	}
	return nil
}

// Hold marks this sender's claim "unknown" and restarts its lease from now: an email that SES
// may still deliver is not claimed again for the lease.
func (n *Notifications) Hold(ctx context.Context, referralID string, notice notification.Notice, claimant string, now time.Time) error {
	mine := expression.Name("claimant").Equal(expression.Value(claimant)).
		And(expression.Name("status").Equal(expression.Value(notificationSending)))
	expr, err := expression.NewBuilder().WithCondition(mine).WithUpdate(
		expression.Set(expression.Name("status"), expression.Value(notificationUnknown)).
			Set(expression.Name("claimedAt"), expression.Value(now.Unix()))).Build()
	if err != nil {
		return err
	}
	_, err = n.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &n.table, Key: itemKey(referralPK(referralID), noticeSK(notice)),
		ConditionExpression: expr.Condition(), UpdateExpression: expr.Update(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	if err != nil {
		return fmt.Errorf("hold %s email for %s: %w", notice, referralID, err)
	}
	return nil
}

// Release deletes this sender's claim so a retry can send.
func (n *Notifications) Release(ctx context.Context, referralID string, notice notification.Notice, claimant string) error {
	kind := notice.String()
	cond := expression.Name("claimant").Equal(expression.Value(claimant)).
		And(expression.Name("status").Equal(expression.Value(notificationSending)))
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return err
	}
	_, err = n.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &n.table, Key: itemKey(referralPK(referralID), noticeSK(notice)),
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	var failed *ddb.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &failed) { // not ours any more: nothing to give back
		return fmt.Errorf("release %s email for %s: %w", kind, referralID, err)
	}
	return nil
}
