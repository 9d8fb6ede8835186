// Command defaultconfig is a DynamoDB-only function configured as the real functions are
// (config.LoadDefaultConfig): with staticconfig, it tells how much of a bootstrap's size the SDK's
// default credential chain accounts for.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		panic(err)
	}
	db := dynamodb.NewFromConfig(cfg)
	lambda.Start(func(ctx context.Context) (int, error) {
		out, err := db.ListTables(ctx, &dynamodb.ListTablesInput{})
		if err != nil {
			return 0, err
		}
		return len(out.TableNames), nil
	})
}
