package respond

import (
	"fmt"
	"math/rand/v2"
	"net/http"

	"github.com/warrenhq/warren"
)

// RequestIDHeader carries a request's id, on every answer to an app's
// client and on the request the app receives (like Cloudflare's cf-ray):
// the app's log and the server's log name the same id. It is set by
// Warren over whatever the client or the app sent under that name.
const RequestIDHeader = "Warren-Request-Id"

// NewRequestID returns a new request id: 16 hex digits.
func NewRequestID() string { return fmt.Sprintf("%016x", rand.Uint64()) }

// Public returns what an anonymous client may see of e, an error that
// stopped its request to an app: the code (hence the status) and the name
// of a limit that was hit, with a generic message. The exception's message
// and stack, Go errors, file paths and host numbers stay out: they go to
// the app's log and the server's, under the request's id.
func Public(e *warren.Error) *warren.Error {
	p := &warren.Error{Code: e.Code, Limit: e.Limit, Hint: "the app's owner finds the details in the app's log under this requestId"}
	switch e.Code {
	case warren.CodeException:
		p.Message = "the app failed while handling the request"
	case warren.CodeLimit:
		p.Message = fmt.Sprintf("the app hit its %s limit while handling the request", e.Limit)
	case warren.CodeTooLarge:
		if e.Limit == "request body" {
			p.Message, p.Hint = e.Message, e.Hint // the client's own request, in the platform's words
		} else {
			p.Message = fmt.Sprintf("the app's %s went past its size limit", e.Limit)
		}
	case warren.CodeEgress:
		p.Message = "the app answered with an outbound request that its egress policy refuses"
	case warren.CodeUnavailable:
		p.Message = "the app is unavailable"
		p.Hint = "retry in a moment; " + p.Hint
	case warren.CodeBadCode:
		p.Message = "the app's code failed to load"
	case warren.CodeBadRequest:
		p.Message = "the request could not be passed to the app"
	case warren.CodeInternal:
		p.Message = "an internal error stopped the request"
	default:
		p.Message = "the request failed"
	}
	return p
}

// ErrorWithID writes err as Error does, with "requestId": id in it.
func ErrorWithID(w http.ResponseWriter, err error, id string) {
	e := AsError(err)
	JSON(w, e.Code.HTTPStatus(), map[string]any{"error": struct {
		*warren.Error
		RequestID string `json:"requestId,omitempty"`
	}{e, id}})
}
