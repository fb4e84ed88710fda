package project_test

import (
	"encoding/json"
	"testing"

	"github.com/warrenhq/warren/project"
)

func TestStripJSONC(t *testing.T) {
	in := `{
  // comment with "quotes" and , commas
  "url": "http://example.com/a//b", /* block */ "s": "a,}b\"c//d",
  "list": [1, 2, /* c */ ],
  "obj": { "x": 1, // trailing
  },
}`
	out, err := project.StripJSONC([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if v["url"] != "http://example.com/a//b" || v["s"] != "a,}b\"c//d" || len(v["list"].([]any)) != 2 {
		t.Fatalf("%v", v)
	}
}
