package warren

import (
	"errors"
)

// Code classifies an Error; each code maps to one HTTP status at the edge.
type Code string

// Error codes.
const (
	CodeBadCode          Code = "bad_code"           // the code cannot be loaded (400)
	CodeBadRequest       Code = "bad_request"        // the request is malformed (400)
	CodeNotFound         Code = "not_found"          // no such app, entrypoint or method (404)
	CodeLimit            Code = "limit"              // an invocation hit a resource limit (503 to the client)
	CodeTooLarge         Code = "too_large"          // a body exceeded its size limit (413)
	CodeEgress           Code = "egress_denied"      // outbound network refused by policy
	CodeException        Code = "exception"          // the code threw (500)
	CodeInternal         Code = "internal"           // a bug in Warren (500)
	CodeUnavailable      Code = "unavailable"        // try again later (503)
	CodeUnauthorized     Code = "unauthorized"       // a missing or wrong admin token (401)
	CodeRateLimited      Code = "rate_limited"       // a requests-per-minute quota was hit (429)
	CodeMethodNotAllowed Code = "method_not_allowed" // a known route, another method (405)
)

// Error is an error with a stable code, a message that says what went wrong,
// and a hint that says what to do about it. Messages are safe to show to the
// app author (who is often a model).
type Error struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"`
	// Limit names the limit that was hit, for CodeLimit and CodeTooLarge.
	Limit string `json:"limit,omitempty"`
	// Stack is the JavaScript stack, for CodeException.
	Stack string `json:"stack,omitempty"`
	// Name is the JavaScript error name, for CodeException ("TypeError").
	Name string `json:"name,omitempty"`
	// JSMessage is the JavaScript error's own message, for CodeException; it
	// is what a JavaScript caller sees as error.message over RPC.
	JSMessage string `json:"-"`
}

// Error implements error.
func (e *Error) Error() string {
	s := e.Message
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// ErrorCode returns the code of err, or CodeInternal when err is not an *Error.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// HTTPStatus is the HTTP status an error of code c is answered with.
func (c Code) HTTPStatus() int {
	switch c {
	case CodeBadCode, CodeBadRequest:
		return 400
	case CodeUnauthorized:
		return 401
	case CodeNotFound:
		return 404
	case CodeMethodNotAllowed:
		return 405
	case CodeTooLarge:
		return 413
	case CodeRateLimited:
		return 429
	case CodeEgress:
		return 502
	case CodeLimit, CodeUnavailable:
		return 503
	}
	return 500
}
