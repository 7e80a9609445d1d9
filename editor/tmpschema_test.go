package editor

import (
	"os"
	"path/filepath"
	"testing"
)

func testSchema(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "nix2gpu.schema.json")
	const s = `{
 "$schema": "http://json-schema.org/draft-07/schema#",
 "type": "object", "additionalProperties": false,
 "properties": {
  "version": {"const": 1},
  "inputs": {"type": "object"},
  "systems": {"type": "array"},
  "defaults": {"type": "object"},
  "containers": {"type": "object", "additionalProperties": {"$ref": "#/definitions/container"}}
 },
 "definitions": {
  "container": {"type": "object", "additionalProperties": false, "properties": {
    "tag": {"type": "string"}, "cuda": {}, "env": {"type": "object"}, "packages": {"type":"array"}, "ports": {"type":"array"},
    "maxLayers": {"type": "integer", "description": "Upper bound on the number of image layers."},
    "services": {"type": "object", "additionalProperties": false, "properties": {
      "postgres": {"type": "object", "additionalProperties": {"type":"object", "properties": {"enable": {"type":"boolean"}, "port": {"type":"integer"}}}},
      "redis": {"type": "object"}
    }}
  }}
 }
}`
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
