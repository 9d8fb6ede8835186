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

// transactAPI is the one call transact makes.
type transactAPI interface {
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// transact runs a transaction that plan builds afresh for each attempt, with jittered backoff
// between attempts. Throttling and transaction conflicts are tried again. When the transaction is
// cancelled, cancelled is told which items' conditions failed and returns the error to stop with,
// or nil to try again (plan may read state cancelled left for it).
func transact(ctx context.Context, client transactAPI, attempts int, what string,
	plan func() ([]ddb.TransactWriteItem, error), cancelled func(failed func(item int) bool) error) error {
	attempts = max(attempts, 1)
	var lastErr error
	for attempt := range attempts {
		if attempt > 0 {
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return fmt.Errorf("%s: %w (last: %v)", what, err, lastErr)
			}
		}
		items, err := plan()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		_, err = client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return nil
		}
		lastErr = err
		var c *ddb.TransactionCanceledException
		if !errors.As(err, &c) {
			if retryable(err) {
				continue
			}
			return fmt.Errorf("%s: %w", what, err)
		}
		reasons := c.CancellationReasons
		failed := func(i int) bool {
			return i >= 0 && i < len(reasons) && aws.ToString(reasons[i].Code) == "ConditionalCheckFailed"
		}
		if err := cancelled(failed); err != nil {
			return err
		}
	}
	return fmt.Errorf("%s: gave up after %d attempts: %w", what, attempts, lastErr)
}

// heldBy is the condition that an item (a referral or an open case) is with specialistID, or
// with nobody when it is "" (waitlisted).
func heldBy(specialistID string) expression.ConditionBuilder {
	if specialistID == "" {
		return expression.AttributeNotExists(expression.Name("specialistId"))
	}
	return expression.Name("specialistId").Equal(expression.Value(specialistID))
}

// updateItem is a transaction's conditional update of the item at key in table.
func updateItem(table string, key map[string]ddb.AttributeValue, cond expression.ConditionBuilder, u expression.UpdateBuilder) (ddb.TransactWriteItem, error) {
	expr, err := expression.NewBuilder().WithCondition(cond).WithUpdate(u).Build()
	if err != nil {
		return ddb.TransactWriteItem{}, err
	}
	return ddb.TransactWriteItem{Update: &ddb.Update{
		TableName: aws.String(table), Key: key,
		ConditionExpression: expr.Condition(), UpdateExpression: expr.Update(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}}, nil
}

// releaseCaseload gives back one unit of a specialist's caseload, on condition that it is above 0.
func releaseCaseload(directory, area, specialistID string) (ddb.TransactWriteItem, error) {
	return updateItem(directory, itemKey(areaPK(area), specialistSK(specialistID)),
		expression.Name("caseload").GreaterThan(expression.Value(0)),
		expression.Set(expression.Name("caseload"), expression.Name("caseload").Minus(expression.Value(1))))
}

// updateItemAPI is the one call conditionalUpdate makes.
type updateItemAPI interface {
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// conditionalUpdate runs one conditional UpdateItem of the item at key in table; a failed
// condition is UpdateItem's *ddb.ConditionalCheckFailedException, for the caller to judge.
func conditionalUpdate(ctx context.Context, client updateItemAPI, table string, key map[string]ddb.AttributeValue, cond expression.ConditionBuilder, u expression.UpdateBuilder) error {
	item, err := updateItem(table, key, cond, u)
	if err != nil {
		return err
	}
	up := item.Update
	_, err = client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: up.TableName, Key: up.Key,
		ConditionExpression: up.ConditionExpression, UpdateExpression: up.UpdateExpression,
		ExpressionAttributeNames: up.ExpressionAttributeNames, ExpressionAttributeValues: up.ExpressionAttributeValues,
	})
	return err
}
