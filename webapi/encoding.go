package webapi

import (
	"encoding/base64"
	"errors"
	"strings"
	"unicode/utf8"
)

func init() {
	register("utf8.encode", func(args []any) (any, error) {
		s, err := ArgString(args, 0)
		if err != nil {
			return nil, err
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	})
	register("utf8.decode", func(args []any) (any, error) {
		s, err := ArgString(args, 0)
		if err != nil {
			return nil, err
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, err
		}
		if !utf8.Valid(b) {
			if ArgBool(args, 1) {
				return nil, errors.New("TypeError: The encoded data was not valid utf-8")
			}
			return strings.ToValidUTF8(string(b), "\uFFFD"), nil
		}
		return string(b), nil
	})
}
