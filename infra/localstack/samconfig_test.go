package localstack

import (
	"maps"
	"os"
	"path/filepath"
	"testing"
)

func TestSamconfigParameters(t *testing.T) {
	tests := []struct {
		name, file string
		want       map[string]string
		wantErr    bool
	}{
		{"no file", "", nil, false},
		{"local section", "[default.deploy.parameters]\nparameter_overrides = \"A=deploy\"\n[default.local_start_api.parameters]\nparameter_overrides = \"A=1 B=\\\"two words\\\"\"\n",
			map[string]string{"A": "1", "B": "two words"}, false},
		{"no local section", "[default.deploy.parameters]\nparameter_overrides = \"A=deploy\"\n", nil, false},
		{"bad pair", "[default.local_start_api.parameters]\nparameter_overrides = \"A\"\n", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.file != "" {
				if err := os.WriteFile(filepath.Join(dir, "samconfig.toml"), []byte(tt.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := samconfigParameters(dir)
			if (err != nil) != tt.wantErr || !maps.Equal(got, tt.want) {
				t.Errorf("got %v, %v; want %v (error %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
