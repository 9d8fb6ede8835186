package dynamo

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ClearOutcomeCheck removes the referral's due attributes when they are its outcome check's, so
// the sweep never reads it again: one conditional write, and nothing when the entry is gone or of
// another kind (a deadline is the store's to clear, when it is met).
func (n *Notifications) ClearOutcomeCheck(ctx context.Context, referralID string) error {
	cond := expression.Name("dueKind").Equal(expression.Value(dueOutcomeCheck))
	expr, err := expression.NewBuilder().WithCondition(cond).WithUpdate(withoutDue(expression.UpdateBuilder{})).Build()
	if err != nil {
		return err
	}
	_, err = n.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &n.table, Key: itemKey(referralPK(referralID), referralSK),
		ConditionExpression: expr.Condition(), UpdateExpression: expr.Update(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	var failed *ddb.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &failed) {
		return fmt.Errorf("clear outcome check of %s: %w", referralID, err)
	}
	return nil
}
