package localstack

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sync"
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
	sm := &secretsManager{values: map[string]*secretValue{}}
	for _, sec := range s.tmpl.Secrets {
		value, ok := s.cfg.Secrets[sec.LogicalID]
		if !ok {
			value = randomSecret()
		}
		v := &secretValue{Secret: sec, value: value}
		for _, id := range []string{sec.ARN, sec.Name, sec.LogicalID} {
			sm.values[id] = v
		}
	}
	s.secrets = sm
	ln, err := listen("127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("secrets manager: %w", err)
	}
	s.secretsURL = "http://" + ln.Addr().String()
	s.secretsSrv = &http.Server{Handler: sm, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.secretsSrv.Serve(ln) }()
	return nil
}

// secretValue is a secret's current version and, after a rotation, its previous one.
type secretValue struct {
	Secret
	value, previous string
	version         int // the current version's number: VersionId "local-<n>"
}

// secretsManager speaks the Secrets Manager JSON protocol for GetSecretValue (with the
// AWSCURRENT and AWSPREVIOUS stages) and PutSecretValue (which rotates: the new value becomes
// AWSCURRENT, the old one AWSPREVIOUS), as a rotation leaves a real secret.
type secretsManager struct {
	mu     sync.Mutex
	values map[string]*secretValue // by ARN, name and logical id
}

// rotate makes value the secret's current version and the current one its previous.
func (sm *secretsManager) rotate(id, value string) (*secretValue, bool) {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	v, ok := sm.values[id]
	if ok {
		v.previous, v.value = v.value, value
		v.version++
	}
	return v, ok
}

func (sm *secretsManager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	target := r.Header.Get("X-Amz-Target")
	if r.Method != http.MethodPost || target != "secretsmanager.GetSecretValue" && target != "secretsmanager.PutSecretValue" {
		awsJSONError(w, http.StatusBadRequest, "UnknownOperationException", "only GetSecretValue and PutSecretValue are emulated locally")
		return
	}
	var in struct{ SecretId, VersionStage, SecretString string }
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil {
		awsJSONError(w, http.StatusBadRequest, "InvalidRequestException", "body is not JSON")
		return
	}
	if target == "secretsmanager.PutSecretValue" {
		v, ok := sm.rotate(in.SecretId, in.SecretString)
		if !ok {
			awsJSONError(w, http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"ARN": v.ARN, "Name": v.Name, "VersionId": fmt.Sprintf("local-%d", v.version), "VersionStages": []string{"AWSCURRENT"}})
		return
	}
	sm.mu.Lock()
	defer sm.mu.Unlock()
	v, ok := sm.values[in.SecretId]
	if !ok {
		awsJSONError(w, http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		return
	}
	value, version := v.value, v.version
	switch in.VersionStage {
	case "", "AWSCURRENT":
		in.VersionStage = "AWSCURRENT"
	case "AWSPREVIOUS":
		if v.previous == "" {
			awsJSONError(w, http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS")
			return
		}
		value, version = v.previous, v.version-1
	default:
		awsJSONError(w, http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: "+in.VersionStage)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"ARN": v.ARN, "Name": v.Name, "SecretString": value, "VersionId": fmt.Sprintf("local-%d", version),
		"VersionStages": []string{in.VersionStage}, "CreatedDate": 0,
	})
}

// RotateSecret rotates the template secret logicalID to value (its current version becomes
// AWSPREVIOUS) and recycles every function's warm workers, so each reads the secret again at
// its next start: the runbook's rotation, done locally.
func (s *Stack) RotateSecret(logicalID, value string) error {
	if s.secrets == nil {
		return fmt.Errorf("rotate %s: the local Secrets Manager is not running", logicalID)
	}
	if _, ok := s.secrets.rotate(logicalID, value); !ok {
		return fmt.Errorf("rotate %s: no such secret in the template", logicalID)
	}
	for _, p := range s.pools {
		p.recycle()
	}
	return nil
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
