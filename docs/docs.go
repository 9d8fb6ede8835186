// Package docs carries the documents the service itself serves: the OpenAPI description of its
// HTTP API (GET /openapi.yaml), embedded so the deployed binary cannot drift from the file.
package docs

import _ "embed"

// OpenAPI is docs/openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI string
