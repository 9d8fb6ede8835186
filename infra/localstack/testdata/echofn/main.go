// Command echofn is a Lambda function for the localstack tests: it answers with the event it was
// given, its pid and selected environment variables, and misbehaves on request. The action comes
// from the event's "action" field or, for HTTP events, the "action" query parameter.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// request holds the fields echofn looks at in any event.
type request struct {
	Action                string            `json:"action"`
	SleepMS               int               `json:"sleepMs"`
	QueryStringParameters map[string]string `json:"queryStringParameters"`
}

// Echo is the body echofn answers with.
type Echo struct {
	PID       int               `json:"pid"`
	RequestID string            `json:"requestId"`
	Deadline  time.Time         `json:"deadline"`
	Env       map[string]string `json:"env"`
	Event     json.RawMessage   `json:"event"`
}

func handle(ctx context.Context, event json.RawMessage) (any, error) {
	var req request
	_ = json.Unmarshal(event, &req)
	if a := req.QueryStringParameters["action"]; a != "" {
		req.Action = a
	}
	if ms := req.QueryStringParameters["sleepMs"]; ms != "" {
		req.SleepMS, _ = strconv.Atoi(ms)
	}

	switch req.Action {
	case "panic":
		panic("echofn asked to panic")
	case "exit":
		os.Exit(3) // a crash without a word to the Runtime API
	case "error":
		return nil, errors.New("echofn asked to fail")
	case "string":
		return "just a string", nil
	case "object":
		return map[string]string{"hello": "world"}, nil
	case "invalid":
		return json.RawMessage(`{"statusCode": "nope"}`), nil
	case "binary":
		return events.APIGatewayV2HTTPResponse{
			StatusCode:      200,
			Headers:         map[string]string{"Content-Type": "image/png"},
			Body:            base64.StdEncoding.EncodeToString([]byte{0x89, 'P', 'N', 'G', 0, 1, 2}),
			IsBase64Encoded: true,
		}, nil
	case "cookies":
		return events.APIGatewayV2HTTPResponse{
			StatusCode:        201,
			Headers:           map[string]string{"Content-Type": "text/plain", "X-Single": "one"},
			MultiValueHeaders: map[string][]string{"X-Multi": {"a", "b"}},
			Cookies:           []string{"a=1; Path=/", "b=2; HttpOnly"},
			Body:              "cookies set",
		}, nil
	case "failures":
		// Report the second record of a stream batch as failed.
		var ev events.DynamoDBEvent
		_ = json.Unmarshal(event, &ev)
		resp := events.DynamoDBEventResponse{}
		if len(ev.Records) > 1 {
			resp.BatchItemFailures = append(resp.BatchItemFailures,
				events.DynamoDBBatchItemFailure{ItemIdentifier: ev.Records[1].Change.SequenceNumber})
		}
		return resp, nil
	}
	if req.SleepMS > 0 {
		select {
		case <-time.After(time.Duration(req.SleepMS) * time.Millisecond):
		case <-ctx.Done():
			// Keep going past the deadline, as a stuck function would.
			time.Sleep(time.Duration(req.SleepMS) * time.Millisecond)
		}
	}

	lc, _ := lambdacontext.FromContext(ctx)
	deadline, _ := ctx.Deadline()
	env := map[string]string{}
	for _, k := range []string{
		"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
		"AWS_LAMBDA_LOG_FORMAT", "AWS_LAMBDA_LOG_LEVEL", "AWS_REGION", "AWS_DEFAULT_REGION",
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SESV2",
		"TABLE", "TABLE_ARN", "GREETING", "MODE", "EXTRA", "ONLY_ECHO", "HOME",
	} {
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	body, err := json.Marshal(Echo{PID: os.Getpid(), RequestID: lc.AwsRequestID, Deadline: deadline, Env: env, Event: event})
	if err != nil {
		return nil, fmt.Errorf("marshal echo: %w", err)
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: 200,
		Headers:    map[string]string{"Content-Type": "application/json", "X-Echo-Pid": strconv.Itoa(os.Getpid())},
		Body:       string(body),
	}, nil
}

func main() {
	logger := lambdacontext.NewLogger()
	logger.Info("echofn starting")
	lambda.Start(handle)
}
