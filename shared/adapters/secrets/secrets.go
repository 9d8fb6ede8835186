// Package secrets reads the service's secrets from AWS Secrets Manager, once per execution
// environment: at start-up, or at the first request that needs them (the intake).
package secrets

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ipspc/referrals/shared/lib/signedlink"
)

// API reads one version stage of a secret: its SecretString ("" when it holds only a binary
// value). A missing secret or stage is an error wrapping ErrNotFound. Client is the real one.
type API interface {
	GetSecretValue(ctx context.Context, id, stage string) (string, error)
}

// ErrNotFound is Secrets Manager's ResourceNotFoundException: no such secret, or no version of
// it in the stage asked for.
var ErrNotFound = errors.New("secret or version stage not found")

// Version stages Secrets Manager keeps through a rotation.
const (
	StageCurrent  = "AWSCURRENT"
	StagePrevious = "AWSPREVIOUS"
)

// PatientKeySecret fetches the patient-key secret named by id (PATIENT_KEY_SECRET_ARN): the key of
// the keyed hashes that stand for NHS numbers and idempotency keys in stored keys. Only its
// current version is read: it is never rotated (docs/operations.md), since a new key would orphan
// every open case already stored.
func PatientKeySecret(ctx context.Context, client API, id string) ([]byte, error) {
	secret, _, err := secretVersion(ctx, client, "patient key secret", "PATIENT_KEY_SECRET_ARN", id, StageCurrent)
	return secret, err
}

// linkSecrets fetches the current signed-link secret and, when there has been a rotation, the
// previous one (SPEC §8: a link signed before a rotation works until it expires). The two are
// read at the same time: start-up pays one round trip, not two.
func linkSecrets(ctx context.Context, client API, id string) (current, previous []byte, err error) {
	var found bool
	var prevErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		previous, found, prevErr = linkSecretVersion(ctx, client, id, StagePrevious)
	}()
	current, _, err = linkSecretVersion(ctx, client, id, StageCurrent)
	<-done
	switch {
	case err != nil:
		return nil, nil, err
	case prevErr != nil:
		return nil, nil, prevErr
	case !found:
		return current, nil, nil // a secret never rotated has no previous version
	}
	return current, previous, nil
}

// linkSecretVersion fetches one version stage of the secret; found is false when the secret has
// no version in that stage. The secret must be at least 32 bytes: a short key would make links
// guessable.
func linkSecretVersion(ctx context.Context, client API, id, stage string) (secret []byte, found bool, err error) {
	return secretVersion(ctx, client, "link secret", "LINK_SECRET_ARN", id, stage)
}

func secretVersion(ctx context.Context, client API, what, env, id, stage string) (secret []byte, found bool, err error) {
	if id == "" {
		return nil, false, fmt.Errorf("%s is not set", env)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	value, err := client.GetSecretValue(ctx, id, stage)
	switch {
	case stage != StageCurrent && errors.Is(err, ErrNotFound):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("read %s (%s): %w", what, stage, err)
	}
	if len(value) < 32 {
		return nil, false, fmt.Errorf("%s %s (%s) is shorter than 32 characters", what, id, stage)
	}
	return []byte(value), true, nil
}

// LinkSigner fetches the signed-link secrets and returns the signer built on them, signing with
// the current version and verifying with it and the previous one: what every function that
// issues or checks links needs at start-up.
func LinkSigner(ctx context.Context, client API, id string) (*signedlink.Signer, error) {
	current, previous, err := linkSecrets(ctx, client, id)
	if err != nil {
		return nil, err
	}
	var older [][]byte
	if previous != nil {
		older = append(older, previous)
	}
	signer, err := signedlink.NewSigner(current, older...)
	if err != nil {
		return nil, fmt.Errorf("link secret: %w", err)
	}
	return signer, nil
}
