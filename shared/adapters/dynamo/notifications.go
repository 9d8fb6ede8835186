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
	"github.com/ipspc/referrals/shared/lib/calendar"
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
	// notificationOwed is a redriven notice whose resend SES refused: nothing went out, anyone
	// may claim it now, and it keeps its Due entry so the next sweep sends it.
	notificationOwed = "owed"
	notificationSent = "sent"
)

// dueRedrive is the Due entry of a notification record held after an unknown outcome: it brings
// the referral to the sweep once the lease ends, whatever the referral's own entry (an engaged,
// waitlisted, closed or withdrawn referral has none the sweep reads), until the notice is sent
// (Confirm) or is no longer owed (Forget). docs/decisions.md, "Redriving unknown outcomes".
const dueRedrive = "redrive"

// dueAttrs are the attributes of an item's Due entry.
var dueAttrs = []string{"dueShard", "dueAt", "dueKind"}

// withoutDue adds to u the removal of an item's Due entry.
func withoutDue(u expression.UpdateBuilder) expression.UpdateBuilder {
	for _, a := range dueAttrs {
		u = u.Remove(expression.Name(a))
	}
	return u
}

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

// Claim writes a "sending" record unless one is sent or held by a live claim. It updates rather
// than puts, so a redriven record keeps its Due entry until the send is confirmed: a claimant that
// dies mid-send leaves it for the next sweep.
func (n *Notifications) Claim(ctx context.Context, referralID string, notice notification.Notice, claimant string, now time.Time) (bool, error) {
	kind := notice.Kind
	claim := expression.Set(expression.Name("kind"), expression.Value(string(kind))).
		Set(expression.Name("status"), expression.Value(notificationSending)).
		Set(expression.Name("claimant"), expression.Value(claimant)).
		Set(expression.Name("claimedAt"), expression.Value(now.Unix())).
		Set(expression.Name("expiresAt"), expression.Value(now.Add(n.Retention).Unix()))
	if notice.Audience != "" {
		claim = claim.Set(expression.Name("audience"), expression.Value(string(notice.Audience)))
	}
	abandoned := expression.Name("status").In(expression.Value(notificationSending), expression.Value(notificationUnknown)).
		And(expression.Name("claimedAt").LessThan(expression.Value(now.Add(-n.Lease).Unix())))
	free := expression.AttributeNotExists(expression.Name(attrPK)).Or(expression.Name("status").Equal(expression.Value(notificationOwed)), abandoned)
	expr, err := expression.NewBuilder().WithCondition(free).WithUpdate(claim).Build()
	if err != nil {
		return false, err
	}
	_, err = n.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &n.table, Key: itemKey(referralPK(referralID), noticeSK(notice)),
		ConditionExpression: expr.Condition(), UpdateExpression: expr.Update(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
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

// Confirm marks the record sent, ends any Due entry it had, and appends the audit event to the
// referral, in one transaction.
func (n *Notifications) Confirm(ctx context.Context, referralID string, notice notification.Notice, claimant, messageID string, event referral.Event) error {
	kind := notice.String()
	mine := expression.Name("claimant").Equal(expression.Value(claimant))
	sent, err := updateItem(n.table, itemKey(referralPK(referralID), noticeSK(notice)), mine, withoutDue(
		expression.Set(expression.Name("status"), expression.Value(notificationSent)).
			Set(expression.Name("messageId"), expression.Value(messageID)).
			Set(expression.Name("sentAt"), expression.Value(event.At.Unix()))))
	if err != nil {
		return err
	}
	audit, err := updateItem(n.table, itemKey(referralPK(referralID), referralSK), expression.AttributeExists(expression.Name(attrPK)), appendEvent(event))
	if err != nil {
		return err
	}
	_, err = n.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddb.TransactWriteItem{sent, audit}})
	if err != nil {
		return fmt.Errorf("confirm %s email for %s: %w", kind, referralID, err)
	}
	return nil
}

// Hold marks this sender's claim "unknown" and restarts its lease from now: an email that SES
// may still deliver is not claimed again for the lease. The same write puts the record in r's
// area's Due partition on the day the lease ends, so the reminders sweep sends it then if it is
// still owed and SES never took it: nothing else would (the stream has moved on, and an engaged,
// waitlisted, closed or withdrawn referral has no entry the sweep reads).
func (n *Notifications) Hold(ctx context.Context, r referral.Referral, notice notification.Notice, claimant string, now time.Time) error {
	mine := expression.Name("claimant").Equal(expression.Value(claimant)).
		And(expression.Name("status").Equal(expression.Value(notificationSending)))
	err := conditionalUpdate(ctx, n.client, n.table, itemKey(referralPK(r.ID), noticeSK(notice)), mine,
		expression.Set(expression.Name("status"), expression.Value(notificationUnknown)).
			Set(expression.Name("claimedAt"), expression.Value(now.Unix())).
			Set(expression.Name("dueShard"), expression.Value(r.Area)).
			Set(expression.Name("dueAt"), expression.Value(calendar.DateOf(now.Add(n.Lease)).String())).
			Set(expression.Name("dueKind"), expression.Value(dueRedrive)))
	if err != nil {
		return fmt.Errorf("hold %s email for %s: %w", notice, r.ID, err)
	}
	return nil
}

// Release deletes this sender's claim so a retry can send. A redriven record (one with a Due
// entry) is kept instead, "owed" and still due, so the next sweep retries it: deleting it would
// leave nothing to bring the referral back.
func (n *Notifications) Release(ctx context.Context, referralID string, notice notification.Notice, claimant string) error {
	kind := notice.String()
	mine := expression.Name("claimant").Equal(expression.Value(claimant)).
		And(expression.Name("status").Equal(expression.Value(notificationSending)))
	expr, err := expression.NewBuilder().WithCondition(mine.And(expression.AttributeNotExists(expression.Name("dueShard")))).Build()
	if err != nil {
		return err
	}
	key := itemKey(referralPK(referralID), noticeSK(notice))
	_, err = n.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &n.table, Key: key,
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValuesOnConditionCheckFailure: ddb.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var failed *ddb.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		if _, due := failed.Item["dueShard"]; !due {
			return nil // not ours any more: nothing to give back
		}
		err = conditionalUpdate(ctx, n.client, n.table, key, mine, expression.Set(expression.Name("status"), expression.Value(notificationOwed)))
		if errors.As(err, &failed) {
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("release %s email for %s: %w", kind, referralID, err)
	}
	return nil
}

// Forget ends the Due entry of the referral's record of a notice it no longer owes (its state
// moved on while the notice was held), so the sweep stops visiting it; the record itself stays.
// Nothing to forget is no error.
func (n *Notifications) Forget(ctx context.Context, referralID string, notice notification.Notice) error {
	err := conditionalUpdate(ctx, n.client, n.table, itemKey(referralPK(referralID), noticeSK(notice)),
		expression.AttributeExists(expression.Name("dueShard")), withoutDue(expression.UpdateBuilder{}))
	var failed *ddb.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &failed) {
		return fmt.Errorf("forget %s email for %s: %w", notice, referralID, err)
	}
	return nil
}
