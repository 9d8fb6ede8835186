package localstack

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// The local endpoint must answer the real SDK client the functions use.
func TestSecretsManagerAnswersTheSDK(t *testing.T) {
	t.Parallel()
	sec := Secret{LogicalID: "LinkSecret", ARN: "arn:aws:secretsmanager:eu-west-2:123456789012:secret:LinkSecret", Name: "LinkSecret"}
	sm := secretsManager{values: map[string]secretValue{sec.ARN: {Secret: sec, value: "s3cret-value"}}}
	srv := httptest.NewServer(sm)
	defer srv.Close()
	client := secretsmanager.New(secretsmanager.Options{
		Region: "eu-west-2", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider(LocalAccessKey, LocalSecretKey, ""),
	})
	tests := []struct {
		id       string
		want     string
		notFound bool
	}{
		{id: sec.ARN, want: "s3cret-value"},
		{id: "arn:aws:secretsmanager:eu-west-2:123456789012:secret:Other", notFound: true},
	}
	for _, tt := range tests {
		out, err := client.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(tt.id)})
		if tt.notFound {
			var nf *smtypes.ResourceNotFoundException
			if !errors.As(err, &nf) {
				t.Errorf("GetSecretValue(%s) err = %v, want ResourceNotFoundException", tt.id, err)
			}
			continue
		}
		if err != nil || aws.ToString(out.SecretString) != tt.want {
			t.Errorf("GetSecretValue(%s) = %v, %v", tt.id, out, err)
		}
	}
	if a, b := randomSecret(), randomSecret(); len(a) != 64 || a == b {
		t.Errorf("randomSecret gave %q and %q", a, b)
	}
}
