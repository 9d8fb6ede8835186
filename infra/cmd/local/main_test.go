package main

import (
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseOptions(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
		check   func(t *testing.T, o *options)
	}{
		{
			name: "defaults are the contract ports",
			check: func(t *testing.T, o *options) {
				if o.httpPort != 3000 || o.lambdaPort != 3001 || o.dynamoPort != 8000 || o.sesPort != 8005 {
					t.Errorf("ports %d %d %d %d", o.httpPort, o.lambdaPort, o.dynamoPort, o.sesPort)
				}
			},
		},
		{
			name: "ports from the environment",
			env:  map[string]string{"API_PORT": "4000", "LAMBDA_PORT": "4001", "DYNAMODB_PORT": "9000", "SES_PORT": "9005"},
			check: func(t *testing.T, o *options) {
				if o.httpPort != 4000 || o.lambdaPort != 4001 || o.dynamoPort != 9000 || o.sesPort != 9005 {
					t.Errorf("ports %d %d %d %d", o.httpPort, o.lambdaPort, o.dynamoPort, o.sesPort)
				}
			},
		},
		{
			name: "HTTP_PORT wins over API_PORT",
			env:  map[string]string{"HTTP_PORT": "4100", "API_PORT": "4000"},
			check: func(t *testing.T, o *options) {
				if o.httpPort != 4100 {
					t.Errorf("httpPort = %d", o.httpPort)
				}
			},
		},
		{name: "bad port", env: map[string]string{"SES_PORT": "eighty"}, wantErr: "SES_PORT"},
		{
			name: "emulators-only command",
			args: []string{"-emulators-only", "--", "go", "test", "./..."},
			check: func(t *testing.T, o *options) {
				if !o.emulatorsOnly || !slices.Equal(o.command, []string{"go", "test", "./..."}) {
					t.Errorf("emulatorsOnly %v command %q", o.emulatorsOnly, o.command)
				}
			},
		},
		{name: "emulators-only without a command", args: []string{"-emulators-only"}, wantErr: "needs a command"},
		{name: "stray arguments", args: []string{"oops"}, wantErr: "unexpected arguments"},
		{
			name: "dbPath and parameters",
			args: []string{"-dbPath", "/tmp/ddb", "-param", "MinAge=16", "-param", "LogLevel=DEBUG"},
			check: func(t *testing.T, o *options) {
				if o.dbPath != "/tmp/ddb" || !maps.Equal(map[string]string(o.params), map[string]string{"MinAge": "16", "LogLevel": "DEBUG"}) {
					t.Errorf("dbPath %q params %v", o.dbPath, o.params)
				}
			},
		},
		{name: "malformed parameter", args: []string{"-param", "nothing"}, wantErr: "Name=Value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"HTTP_PORT", "API_PORT", "LAMBDA_PORT", "DYNAMODB_PORT", "SES_PORT"} {
				t.Setenv(k, tt.env[k])
			}
			o, err := parseOptions(tt.args, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, o)
		})
	}
}

func TestLoadParametersAndEnvVars(t *testing.T) {
	dir := t.TempDir()
	params := filepath.Join(dir, "params.json")
	envVars := filepath.Join(dir, "env.json")
	write := func(path, s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(params, `{"MinAge": "16", "LogLevel": "WARN"}`)
	write(envVars, `{"Parameters": {"A": "1"}, "IntakeFunction": {"B": "2"}}`)

	got, err := loadParameters(&options{paramsFile: params, params: paramFlag{"LogLevel": "DEBUG"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"MinAge": "16", "LogLevel": "DEBUG"}; !maps.Equal(got, want) {
		t.Errorf("parameters = %v, want %v (flags win over the file)", got, want)
	}

	global, perFunction, err := loadEnvVars(envVars)
	if err != nil {
		t.Fatal(err)
	}
	if global["A"] != "1" || perFunction["IntakeFunction"]["B"] != "2" {
		t.Errorf("env vars = %v / %v", global, perFunction)
	}

	write(params, `["not", "an", "object"]`)
	if _, err := loadParameters(&options{paramsFile: params}); err == nil {
		t.Error("a JSON list of parameters was accepted")
	}
}
