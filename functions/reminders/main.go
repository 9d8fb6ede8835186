// Command reminders is RemindersFunction (placeholder until the reminders sweep lands).
package main

import "github.com/aws/aws-lambda-go/lambda"

func main() { lambda.Start(func() error { return nil }) }
