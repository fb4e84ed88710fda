package webapi

import (
	"encoding/json"
	"net/url"
)

// TEMPORARY: replaced by the WHATWG URL parser.
func init() {
	register("url.parse", func(args []any) (any, error) {
		s, err := ArgString(args, 0)
		if err != nil {
			return nil, err
		}
		u, err := url.Parse(s)
		if err != nil {
			return nil, nil
		}
		if b, ok := args[1].(string); ok {
			bu, err := url.Parse(b)
			if err != nil {
				return nil, nil
			}
			u = bu.ResolveReference(u)
		}
		if u.Scheme == "" {
			return nil, nil
		}
		m := map[string]string{"href": u.String(), "protocol": u.Scheme + ":", "host": u.Host, "hostname": u.Hostname(), "port": u.Port(), "pathname": u.EscapedPath(), "search": "", "hash": ""}
		if u.RawQuery != "" {
			m["search"] = "?" + u.RawQuery
		}
		b, _ := json.Marshal(m)
		return string(b), nil
	})
}
