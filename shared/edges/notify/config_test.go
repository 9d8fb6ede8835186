package notify

import (
	"strings"
	"testing"
	"time"
)

func TestConfigFromEnv(t *testing.T) {
	full := map[string]string{"REFERRALS_TABLE": "r", "DIRECTORY_TABLE": "d", "RETURNS_TABLE": "t", "SENDER_ADDRESS": "s@example.org",
		"PUBLIC_BASE_URL": "https://x.example/", "LINK_SECRET_ARN": "arn:secret", "LINK_TTL_DAYS": "7"}
	c, err := ConfigFromEnv(func(k string) string { return full[k] })
	if err != nil || c.BaseURL != "https://x.example" || c.LinkTTL != 7*24*time.Hour || c.ConfigurationSet != "" || c.ReturnsTable != "t" {
		t.Fatalf("= %+v, %v", c, err)
	}
	_, err = ConfigFromEnv(func(k string) string {
		if k == "SENDER_ADDRESS" {
			return ""
		}
		if k == "LINK_TTL_DAYS" {
			return "0"
		}
		return full[k]
	})
	if err == nil || !strings.Contains(err.Error(), "SENDER_ADDRESS is not set") || !strings.Contains(err.Error(), "LINK_TTL_DAYS") {
		t.Errorf("err = %v, want both problems named", err)
	}
}
