package dynamo

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Calls is the DynamoDB client cut down to the operations these adapters make, bound as method
// values. functions/*/main.go pass Bind(client) to the adapters' constructors instead of the
// client itself.
//
// Why: html/template and text/template call reflect's MethodByName, and a binary that links them
// keeps every exported method of every type it converts to an interface. Handing *dynamodb.Client
// to a constructor that takes an interface is such a conversion, and keeps all 332 operations of
// the client with their serializers (1.6 MB of each bootstrap). A method value is not a
// conversion: only the operations named here are linked. A struct holding the *Client as a field
// would not help, since its field's type is marked with it. The size guard
// (infra/bench TestBootstrapSizeBudget) fails if a *Client reaches an interface again.
type Calls struct {
	getItem            func(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	putItem            func(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	updateItem         func(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	deleteItem         func(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	query              func(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	scan               func(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	batchGetItem       func(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	batchWriteItem     func(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	transactWriteItems func(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Bind binds the operations the adapters use to client. It takes the concrete client on purpose:
// see Calls.
func Bind(client *dynamodb.Client) Calls {
	return Calls{
		getItem:            client.GetItem,
		putItem:            client.PutItem,
		updateItem:         client.UpdateItem,
		deleteItem:         client.DeleteItem,
		query:              client.Query,
		scan:               client.Scan,
		batchGetItem:       client.BatchGetItem,
		batchWriteItem:     client.BatchWriteItem,
		transactWriteItems: client.TransactWriteItems,
	}
}

// Every adapter's client interface is satisfied by the binding.
var (
	_ DirectoryAPI     = Calls{}
	_ DueAPI           = Calls{}
	_ MovesAPI         = Calls{}
	_ NotificationsAPI = Calls{}
	_ ProgressAPI      = Calls{}
	_ ReferralsAPI     = Calls{}
	_ ReturnsAPI       = Calls{}
	_ WorklistAPI      = Calls{}
)

func (c Calls) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return c.getItem(ctx, in, opts...)
}

func (c Calls) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return c.putItem(ctx, in, opts...)
}

func (c Calls) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return c.updateItem(ctx, in, opts...)
}

func (c Calls) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return c.deleteItem(ctx, in, opts...)
}

func (c Calls) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return c.query(ctx, in, opts...)
}

func (c Calls) Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	return c.scan(ctx, in, opts...)
}

func (c Calls) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return c.batchGetItem(ctx, in, opts...)
}

func (c Calls) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	return c.batchWriteItem(ctx, in, opts...)
}

func (c Calls) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return c.transactWriteItems(ctx, in, opts...)
}
