package dynamo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Store tests run against DynamoDB Local (or any DynamoDB endpoint) named by
// AWS_ENDPOINT_URL_DYNAMODB, the SDK's own variable; `make test` starts one and sets it.

// newTestClient returns a client for the DynamoDB endpoint in AWS_ENDPOINT_URL_DYNAMODB, with static
// credentials, or skips the test when the variable is unset.
func newTestClient(tb testing.TB) *dynamodb.Client {
	tb.Helper()
	endpoint := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	if endpoint == "" {
		tb.Skip("set AWS_ENDPOINT_URL_DYNAMODB (make test does)")
	}
	cfg := aws.Config{
		Region:      "eu-west-2",
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	}
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	})
}

var tableNameUnsafe = regexp.MustCompile(`[^a-zA-Z0-9_.-]+`)

// createTable creates the table described by input under a unique name (the test's name and a
// random suffix; input.TableName is ignored), waits until it is active, deletes it when the test
// ends, and returns its name. input is not modified.
func createTable(tb testing.TB, client *dynamodb.Client, input *dynamodb.CreateTableInput) string {
	tb.Helper()
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		tb.Fatalf("create table: %v", err)
	}
	name := tableNameUnsafe.ReplaceAllString(tb.Name(), "_")
	if len(name) > 200 {
		name = name[:200]
	}
	name += "-" + hex.EncodeToString(suffix)

	in := *input
	in.TableName = aws.String(name)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := client.CreateTable(ctx, &in); err != nil {
		tb.Fatalf("create table %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
			tb.Errorf("delete table %s: %v", name, err)
		}
	})
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 100 * time.Millisecond
		o.MaxDelay = time.Second
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute); err != nil {
		tb.Fatalf("wait for table %s: %v", name, err)
	}
	return name
}
