package dynamo

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ipspc/referrals/shared/domain/referral"
)

// ClearOutcomeCheck ends r's outcome-check entry in the Due index, so the sweep never reads r
// again: one conditional write, on condition that the entry is still the outcome check's (a
// deadline's entry is the store's to end, when it is met) and r's status is as read. An open r
// keeps its entry at noDeadline, without a kind (the lead's worklist still lists it); a closed one
// leaves the index. Nothing to clear is no error. A later write through withDue may set the check
// again (dueOf cannot know it was sent): the sweep then finds it sent and settles it again.
func (n *Notifications) ClearOutcomeCheck(ctx context.Context, r referral.Referral) error {
	cond := expression.Name("dueKind").Equal(expression.Value(dueOutcomeCheck)).
		And(expression.Name("status").Equal(expression.Value(r.Status)))
	update := withDue(expression.UpdateBuilder{}, r) // closed: no entry
	if r.Status.Open() {
		update = expression.Set(expression.Name("dueAt"), expression.Value(noDeadline)).Remove(expression.Name("dueKind"))
	}
	err := conditionalUpdate(ctx, n.client, n.table, itemKey(referralPK(r.ID), referralSK), cond, update)
	var failed *ddb.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &failed) {
		return fmt.Errorf("clear outcome check of %s: %w", r.ID, err)
	}
	return nil
}
