package localstack

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"time"
)

// Secret is an AWS::SecretsManager::Secret of the template.
type Secret struct {
	LogicalID string
	ARN       string // local ARN, what !Ref gives the functions
	Name      string
}

// startSecrets serves GetSecretValue for the template's secrets, so a function reads its secret
// exactly as it does when deployed. It is skipped when the caller points functions at a Secrets
// Manager of their own (AWS_ENDPOINT_URL_SECRETS_MANAGER).
func (s *Stack) startSecrets() error {
	if len(s.tmpl.Secrets) == 0 || os.Getenv("AWS_ENDPOINT_URL_SECRETS_MANAGER") != "" {
		return nil
	}
	sm := secretsManager{values: map[string]secretValue{}}
	for _, sec := range s.tmpl.Secrets {
		value, ok := s.cfg.Secrets[sec.LogicalID]
		if !ok {
			value = randomSecret()
		}
		v := secretValue{Secret: sec, value: value}
		for _, id := range []string{sec.ARN, sec.Name, sec.LogicalID} {
			sm.values[id] = v
		}
	}
	ln, err := listen("127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("secrets manager: %w", err)
	}
	s.secretsURL = "http://" + ln.Addr().String()
	s.secretsSrv = &http.Server{Handler: sm, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.secretsSrv.Serve(ln) }()
	return nil
}

type secretValue struct {
	Secret
	value string
}

// secretsManager speaks the Secrets Manager JSON protocol for GetSecretValue only.
type secretsManager struct {
	values map[string]secretValue
}

func (sm secretsManager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if r.Method != http.MethodPost || r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" {
		awsJSONError(w, http.StatusBadRequest, "UnknownOperationException", "only GetSecretValue is emulated locally")
		return
	}
	var in struct{ SecretId string }
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil {
		awsJSONError(w, http.StatusBadRequest, "InvalidRequestException", "body is not JSON")
		return
	}
	v, ok := sm.values[in.SecretId]
	if !ok {
		awsJSONError(w, http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"ARN": v.ARN, "Name": v.Name, "SecretString": v.value, "VersionId": "local",
		"VersionStages": []string{"AWSCURRENT"}, "CreatedDate": 0,
	})
}

func awsJSONError(w http.ResponseWriter, status int, typ, msg string) {
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}

// randomSecret is 64 letters and digits, like the template's GenerateSecretString.
func randomSecret() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 64)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
