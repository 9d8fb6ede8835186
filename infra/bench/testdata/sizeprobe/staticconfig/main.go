// Command staticconfig is defaultconfig with an aws.Config built from Lambda's environment
// variables alone: no default credential chain (STS, SSO, sign-in clients) linked in.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

func main() {
	cfg := aws.Config{
		Region:      os.Getenv("AWS_REGION"),
		Credentials: credentials.NewStaticCredentialsProvider(os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN")),
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
