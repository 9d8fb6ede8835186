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

	"github.com/ipspc/referrals/shared/adapters/awsenv"
	"github.com/ipspc/referrals/shared/adapters/secrets"
)

// The local endpoint must answer the functions' own Secrets Manager client (secrets.Client),
// configured as the stack configures a function (AWS_ENDPOINT_URL_SECRETS_MANAGER): the current
// version, no previous one before a rotation, both after, and a missing secret.
func TestSecretsManagerAnswersTheFunctionsClient(t *testing.T) {
	t.Parallel()
	sec := Secret{LogicalID: "LinkSecret", ARN: "arn:aws:secretsmanager:eu-west-2:123456789012:secret:LinkSecret", Name: "LinkSecret"}
	v := &secretValue{Secret: sec, value: "first"}
	sm := &secretsManager{values: map[string]*secretValue{sec.ARN: v, sec.LogicalID: v}}
	srv := httptest.NewServer(sm)
	defer srv.Close()
	env := map[string]string{"AWS_REGION": "eu-west-2", "AWS_ACCESS_KEY_ID": LocalAccessKey, "AWS_SECRET_ACCESS_KEY": LocalSecretKey,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": srv.URL}
	cfg, err := awsenv.Config(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	client, err := secrets.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	check := func(when, id, stage, want string, notFound bool) {
		t.Helper()
		got, err := client.GetSecretValue(context.Background(), id, stage)
		if notFound {
			if !errors.Is(err, secrets.ErrNotFound) {
				t.Errorf("%s: %s %s = %q, %v; want ErrNotFound", when, id, stage, got, err)
			}
			return
		}
		if err != nil || got != want {
			t.Errorf("%s: %s %s = %q, %v; want %q", when, id, stage, got, err, want)
		}
	}
	check("before a rotation", sec.ARN, secrets.StageCurrent, "first", false)
	check("before a rotation", sec.ARN, secrets.StagePrevious, "", true)
	check("missing secret", "arn:aws:secretsmanager:eu-west-2:123456789012:secret:Other", secrets.StageCurrent, "", true)
	if _, ok := sm.rotate(sec.LogicalID, "second"); !ok {
		t.Fatal("rotate failed")
	}
	check("after a rotation", sec.ARN, secrets.StageCurrent, "second", false)
	check("after a rotation", sec.ARN, secrets.StagePrevious, "first", false)
}

// The local endpoint must answer the real SDK client the functions use.
func TestSecretsManagerAnswersTheSDK(t *testing.T) {
	t.Parallel()
	sec := Secret{LogicalID: "LinkSecret", ARN: "arn:aws:secretsmanager:eu-west-2:123456789012:secret:LinkSecret", Name: "LinkSecret"}
	sm := &secretsManager{values: map[string]*secretValue{sec.ARN: {Secret: sec, value: "s3cret-value"}}}
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

// TestSecretsManagerRotates: before a rotation there is no AWSPREVIOUS; PutSecretValue makes the
// new value AWSCURRENT and the old one AWSPREVIOUS, as Secrets Manager's rotation does.
func TestSecretsManagerRotates(t *testing.T) {
	t.Parallel()
	sec := Secret{LogicalID: "LinkSecret", ARN: "arn:aws:secretsmanager:eu-west-2:123456789012:secret:LinkSecret", Name: "LinkSecret"}
	v := &secretValue{Secret: sec, value: "first"}
	sm := &secretsManager{values: map[string]*secretValue{sec.ARN: v, sec.LogicalID: v}}
	srv := httptest.NewServer(sm)
	defer srv.Close()
	client := secretsmanager.New(secretsmanager.Options{
		Region: "eu-west-2", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider(LocalAccessKey, LocalSecretKey, ""),
	})
	get := func(stage string) (string, error) {
		out, err := client.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(sec.ARN), VersionStage: aws.String(stage)})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.SecretString), nil
	}
	var nf *smtypes.ResourceNotFoundException
	if _, err := get("AWSPREVIOUS"); !errors.As(err, &nf) {
		t.Errorf("AWSPREVIOUS before a rotation: err = %v, want ResourceNotFoundException", err)
	}
	if _, err := client.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{SecretId: aws.String(sec.ARN), SecretString: aws.String("second")}); err != nil {
		t.Fatal(err)
	}
	if _, ok := sm.rotate("LinkSecret", "third"); !ok {
		t.Fatal("rotate by logical id failed")
	}
	for stage, want := range map[string]string{"AWSCURRENT": "third", "AWSPREVIOUS": "second"} {
		if got, err := get(stage); got != want || err != nil {
			t.Errorf("%s = %q, %v; want %q", stage, got, err, want)
		}
	}
	if _, err := get("AWSPENDING"); !errors.As(err, &nf) {
		t.Errorf("AWSPENDING: err = %v, want ResourceNotFoundException", err)
	}
}
