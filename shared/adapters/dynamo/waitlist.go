package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/lib/calendar"
)

// waitlistIndex is the sparse GSI of waitlisted referrals, oldest first per area.
const waitlistIndex = "Waitlist"

// AssignOldestWaitlisted assigns the oldest waitlisted referral in area to the specialist routing
// picks, with deadlines recomputed from now (SPEC §6), in one transaction like intake. It returns
// the referral as assigned, or ok=false when the waitlist is empty or nobody has capacity.
func (s *Referrals) AssignOldestWaitlisted(ctx context.Context, area string, now time.Time, deadlines referral.DeadlinesFunc) (assigned referral.Referral, ok bool, err error) {
	var lastErr error
	for attempt := range s.MaxAttempts {
		if attempt > 0 {
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return assigned, false, fmt.Errorf("drain waitlist in %s: %w (last: %v)", area, err, lastErr)
			}
		}
		r, found, err := s.oldestWaitlisted(ctx, area)
		if err != nil || !found {
			return assigned, false, err
		}
		items, planned, full, err := s.planAssignment(ctx, r, now, deadlines)
		if err != nil || full {
			return assigned, false, err
		}
		_, err = s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return planned, true, nil
		}
		var cancelled *ddb.TransactionCanceledException
		if !errors.As(err, &cancelled) && !retryable(err) {
			return assigned, false, fmt.Errorf("drain waitlist in %s: %w", area, err)
		}
		lastErr = err // someone else assigned it, or filled the specialist: look again
	}
	return assigned, false, fmt.Errorf("drain waitlist in %s: gave up after %d attempts: %w", area, s.MaxAttempts, lastErr)
}

// oldestWaitlisted reads the oldest referral in the area's waitlist. The index is eventually
// consistent, so each candidate is re-read and skipped unless it is still waitlisted.
func (s *Referrals) oldestWaitlisted(ctx context.Context, area string) (referral.Referral, bool, error) {
	key := expression.Key("waitArea").Equal(expression.Value(area))
	expr, err := expression.NewBuilder().WithKeyCondition(key).Build()
	if err != nil {
		return referral.Referral{}, false, err
	}
	out, err := s.client.Query(ctx, &dynamodb.QueryInput{
		TableName: &s.tables.Referrals, IndexName: aws.String(waitlistIndex),
		KeyConditionExpression: expr.KeyCondition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ScanIndexForward: aws.Bool(true), Limit: aws.Int32(10),
	})
	if err != nil {
		return referral.Referral{}, false, fmt.Errorf("query waitlist in %s: %w", area, err)
	}
	for _, k := range out.Items {
		var keys struct {
			PK string `json:"pk"`
		}
		if err := unmarshalMap(k, &keys); err != nil {
			return referral.Referral{}, false, fmt.Errorf("decode waitlist key: %w", err)
		}
		r, err := s.load(ctx, keys.PK)
		if err != nil {
			return referral.Referral{}, false, err
		}
		if r.Status == referral.StatusWaitlisted {
			return r, true, nil
		}
	}
	return referral.Referral{}, false, nil
}

// planAssignment builds the transaction that assigns waitlisted r. full is true when nobody in the
// area has capacity (and r's patient has no open case with a specialist already).
func (s *Referrals) planAssignment(ctx context.Context, r referral.Referral, now time.Time, deadlines referral.DeadlinesFunc) (items []ddb.TransactWriteItem, assigned referral.Referral, full bool, err error) {
	open, err := s.openCase(ctx, nil, r)
	if err != nil {
		return nil, r, false, err
	}
	c := referral.Command{Kind: referral.KindAssign, Actor: referral.ActorSystem, By: referral.System, Via: "waitlist", Deadlines: deadlines}
	if open != nil && open.SpecialistID != "" {
		c.OpenCase = open.SpecialistID
	} else if c.Candidates, err = s.candidates(ctx, r.Area); err != nil {
		return nil, r, false, err
	}
	t, err := referral.Apply(r, c, now)
	if errors.Is(err, referral.ErrNoRoom) {
		return nil, r, true, nil
	}
	if err != nil {
		return nil, r, false, err
	}
	r, event := t.Referral, t.Event
	var caseload *ddb.TransactWriteItem
	if t.Caseload.Take != "" {
		if caseload, err = s.incrementCaseload(r.Area, t.Caseload.Take); err != nil {
			return nil, r, false, err
		}
	}

	cond := expression.Name("status").Equal(expression.Value(t.From))
	update := expression.Set(expression.Name("status"), expression.Value(r.Status)).
		Set(expression.Name("specialistId"), expression.Value(r.SpecialistID)).
		Set(expression.Name("contactBy"), expression.Value(r.ContactBy.String())).
		Set(expression.Name("meetBy"), expression.Value(r.MeetBy.String())).
		Set(expression.Name("assignedAt"), expression.Value(now.UTC().Format(time.RFC3339))).
		Set(expression.Name("events"), expression.ListAppend(expression.Name("events"), expression.Value(eventList(event)))).
		Remove(expression.Name("waitArea")).
		Remove(expression.Name("waitSince"))
	update = withDue(update, r)
	item, err := updateItem(s.tables.Referrals, itemKey(referralPK(r.ID), referralSK), cond, update)
	if err != nil {
		return nil, r, false, err
	}
	items = append(items, item)
	if caseload != nil {
		items = append(items, *caseload)
	}
	if caseload != nil && open != nil {
		// The open case now belongs to the specialist: later re-referrals follow it there.
		openCond := expression.AttributeExists(expression.Name(attrPK)).And(heldBy(""))
		item, err := updateItem(s.tables.Referrals, itemKey(openPK(r.Area, r.PatientKey), openSK), openCond,
			expression.Set(expression.Name("specialistId"), expression.Value(r.SpecialistID)))
		if err != nil {
			return nil, r, false, err
		}
		items = append(items, item)
	}
	return items, r, false, nil
}

// load reads one referral by its partition key (consistent).
func (s *Referrals) load(ctx context.Context, pk string) (referral.Referral, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.tables.Referrals, Key: itemKey(pk, referralSK), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return referral.Referral{}, fmt.Errorf("read referral: %w", err)
	}
	if len(out.Item) == 0 {
		return referral.Referral{}, referral.Errorf(referral.CodeNotFound, "Page not found")
	}
	return decodeReferral(out.Item)
}

// decodeReferral turns a stored referral item back into the domain type.
func decodeReferral(av map[string]ddb.AttributeValue) (referral.Referral, error) {
	var item referralItem
	if err := unmarshalMap(av, &item); err != nil {
		return referral.Referral{}, fmt.Errorf("decode referral: %w", err)
	}
	return item.referral()
}

func (it referralItem) referral() (referral.Referral, error) {
	r := referral.Referral{
		ID: it.ReferralID, Submission: it.Submission, Area: it.Area, Status: referral.Status(it.Status),
		SpecialistID: it.SpecialistID, ReReferral: it.ReReferral, Events: it.Events,
		PatientKey: referral.PatientKey(it.PatientKey),
	}
	var err1, err2, err3 error
	r.ReceivedAt, err1 = time.Parse(time.RFC3339, it.ReceivedAt)
	r.ContactBy, err2 = calendar.ParseDate(it.ContactBy)
	r.MeetBy, err3 = calendar.ParseDate(it.MeetBy)
	if err := errors.Join(err1, err2, err3); err != nil {
		return r, fmt.Errorf("decode referral %s: %w", it.ReferralID, err)
	}
	return r, nil
}
