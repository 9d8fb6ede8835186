// Package localstack runs the service's SAM template on this machine without Docker: our own
// equivalent of `sam local start-api` and `sam local start-lambda`, plus the DynamoDB stream and
// schedule triggers sam local does not emulate.
//
// Everything comes from template.yaml, so local cannot drift from deployed:
//
//   - LoadTemplate reads the template with yaml.v3 nodes, resolving intrinsics (!Ref, !GetAtt,
//     !Sub, !If, !Equals, !Join, !Select, !Split, !FindInMap, conditions, pseudo parameters) to
//     local values: parameters take their defaults or overrides, tables their local names, ARNs
//     are local ARNs. An intrinsic that cannot be resolved is an error naming the function and
//     variable, never an empty value.
//   - BuildFunctions builds each function's bootstrap as sam build does, but for the host's
//     architecture (deployed is arm64).
//   - Each function runs as a pool of real bootstrap processes, each polling its own local Lambda
//     Runtime API (runtime.go). Workers start on demand up to the function's concurrency, stay warm,
//     and are killed and replaced after a timeout or crash, as Lambda's execution environments are.
//   - The HTTP API (httpapi.go) routes requests by the template's HttpApi events and speaks API
//     Gateway's payload format 2.0; the Invoke API (invokeapi.go) serves the AWS CLI and SDKs.
//   - Triggers (trigger.go) feed DynamoDB stream records and schedules to functions.
//   - StartDynamoDBLocal and StartSES run the emulators from node_modules; CreateTables makes the
//     template's tables.
//
// Start ties these together for `make local` (infra/cmd/local) and for end-to-end tests:
//
//	s, err := localstack.Start(ctx, localstack.Config{
//		HTTPAddr: "127.0.0.1:0", InvokeAddr: "127.0.0.1:0",
//		TablePrefix: "e2e-" + id + "-", DropTables: true,
//		Seed: func(ctx context.Context, tables map[string]string) error { ... },
//	})
//	defer s.Close()
//	resp, err := http.Post(s.HTTPURL()+"/referrals", "application/json", body)
//
// Deliberate differences from AWS, each because local use is better served:
//
//   - Past a function's concurrency, invocations wait for a worker instead of being throttled.
//   - Stream batches that keep failing are retried a bounded number of times (Config.
//     StreamMaxRetries) where the template leaves Lambda's retry-until-expiry default, then
//     logged and dropped: there is no on-failure queue locally (Config.OnStreamDiscard is told
//     of them instead).
//   - Only $LATEST exists; asynchronous invocations are not retried.
//   - cron() schedules run on the wall clock; only rate() schedules honour ScheduleSpeedup.
package localstack
