package svcgen

import (
	"strings"
	"testing"
)

func TestDescribe(t *testing.T) {
	tests := []struct{ desc, want string }{
		{"string", "string"},
		{"boolean", "bool"},
		{"signed integer", "int"},
		{"absolute path", "string"},
		{"package", "string"},
		{`strings concatenated with "\n"`, "string"},
		{"16 bit unsigned integer; between 0 and 65535 (both inclusive)", "int & >=0 & <=65535"},
		{"positive integer, meaning >0", "int & >0"},
		{"null or string", "null | string"},
		{"null or 16 bit unsigned integer; between 0 and 65535 (both inclusive)", "null | (int & >=0 & <=65535)"},
		{"16 bit unsigned integer; between 0 and 65535 (both inclusive) or string", "(int & >=0 & <=65535) | string"},
		{"list of string", "[...string]"},
		{"null or (list of absolute path)", "null | [...string]"},
		{"attribute set of string", "{[string]: string}"},
		{"attribute set of (boolean or floating point number or signed integer or string)", "{[string]: bool | number | int | string}"},
		{"attribute set of (raw value or list of string)", "{[string]: _}"},
		{"list of (YAML 1.1 value)", "[..._]"},
		{"null or (function that evaluates to a(n) list of package)", "null | string"},
		{"section of an INI file (attrs of INI atom (null, bool, int, float or string))", "{[string]: _}"},
	}
	for _, tt := range tests {
		if got := describe(tt.desc); got != tt.want {
			t.Errorf("describe(%q) = %q, want %q", tt.desc, got, tt.want)
		}
	}
}

func TestGenerate(t *testing.T) {
	src := `{"source": {"services-flake": "abc"}, "services": {"my-db": {"options": [
	 {"path": ["enable"], "type": "bool", "typeDescription": "boolean", "default": false},
	 {"path": ["port"], "type": "unsignedInt16", "typeDescription": "16 bit unsigned integer; between 0 and 65535 (both inclusive)", "default": 5432},
	 {"path": ["users"], "type": "listOf", "typeDescription": "list of (submodule)", "default": []},
	 {"path": ["users", "*", "name"], "type": "str", "typeDescription": "string", "required": true},
	 {"path": ["tls", "cert"], "type": "path", "typeDescription": "absolute path"},
	 {"path": ["uri"], "type": "functionTo", "typeDescription": "function that evaluates to a(n) string", "readOnly": true}
	]}}}`
	out, err := Generate([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got := string(out)
	for _, want := range []string{
		Header,
		`"my-db"?: {[#InstanceName]: #Svc_my_db}`,
		"enable?: *false | bool",
		"port?: *5432 | (int & >=0 & <=65535)",
		"users?: [...{",
		"Required by services-flake when the instance is used.",
		"tls?: {",
		"cert?: string",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "uri") {
		t.Errorf("read-only option uri was generated:\n%s", got)
	}
	if _, err := Generate([]byte(`{"services": {}}`)); err == nil {
		t.Error("Generate accepted an empty service list")
	}
}
