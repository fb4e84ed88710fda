package supervisor

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/respond"
)

// MaxAppRequestBody bounds the body of a request to an app.
const MaxAppRequestBody = 32 << 20

// ServeApp forwards r to app id, which sees path (the part after
// /apps/{id}, or the whole path under {id}.<domain>). An unknown app is a
// 404 with a JSON body and touches nothing on disk.
//
// Every answer carries a request id (respond.RequestIDHeader), which the
// app also receives. The client of an app is anyone: when the app's code
// or its runner fails, the client gets the error's code (and a limit's
// name) with the request id (respond.Public), while the app's log gets
// the whole error, with its stack, under the same id.
func (s *Supervisor) ServeApp(w http.ResponseWriter, r *http.Request, id, path string) {
	rid := respond.NewRequestID()
	w.Header().Set(respond.RequestIDHeader, rid)
	if err := ValidateID(id); err != nil {
		respond.ErrorWithID(w, err, rid)
		return
	}
	a := s.lookup(id)
	if a == nil {
		respond.ErrorWithID(w, notFound(id), rid)
		return
	}
	start := time.Now()
	if wait, ok := a.rate.allow(start); !ok {
		limit := a.rate.limit()
		if a.rate.firstRefusal() {
			s.log.Warn("app quota hit", "app", id, "quota", "requestsPerMinute", "limit", limit)
		}
		a.logs.add(LogLine{Time: start.UTC(), Level: "quota", Message: fmt.Sprintf("request refused: more than %d requests this minute (requestsPerMinute quota)", limit), Method: r.Method, Path: path, Status: http.StatusTooManyRequests, RequestID: rid})
		s.metrics.rateLimited.Add(1)
		w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		respond.ErrorWithID(w, &warren.Error{Code: warren.CodeRateLimited, Limit: "requestsPerMinute", Message: fmt.Sprintf("app %q is over its quota of %d requests per minute", id, limit), Hint: "retry after the number of seconds in the Retry-After header, or ask the operator to raise requestsPerMinute"}, rid)
		return
	}
	info := &RequestInfo{Method: r.Method, Path: path, Header: r.Header}
	if h := s.opts.Hooks.BeforeRequest; h != nil {
		if err := h(r.Context(), id, info); err != nil {
			respond.ErrorWithID(w, err, rid) // the operator's own words
			return
		}
	}
	req := r.Clone(r.Context())
	req.Header.Set(respond.RequestIDHeader, rid) // over whatever the client sent
	req.URL.Path, req.URL.RawPath = path, ""
	req.RequestURI = ""
	req.URL.Host = r.Host
	req.URL.Scheme = "http"
	if r.TLS != nil {
		req.URL.Scheme = "https"
	}
	body := &cappedBody{ReadCloser: http.MaxBytesReader(w, r.Body, MaxAppRequestBody)}
	req.Body = body

	var resp *http.Response
	var ru *RunUsage
	spec, err := s.specOf(a)
	if err == nil {
		resp, ru, err = s.runner.Serve(r.Context(), spec, req)
	}
	status := 0
	if err != nil {
		e := respond.AsError(err)
		switch {
		case body.over != nil:
			// Whatever the runner made of the failed read, the client sent
			// too much.
			e = respond.AsError(body.over)
		case body.failed != nil:
			// The client's body broke (a bad chunk, a connection closed
			// before its Content-Length): the client's fault, not the app's.
			e = &warren.Error{Code: warren.CodeBadRequest, Message: "the request body could not be read: " + body.failed.Error(), Hint: "send the whole body (its Content-Length, or valid chunks)"}
		}
		status = e.Code.HTTPStatus()
		if e.Code == warren.CodeLimit {
			s.log.Warn("app quota hit", "app", id, "quota", e.Limit, "error", e.Message)
		}
		// The whole error goes to the app's log (an exception's stack too:
		// the isolate's own exception line does not know the request);
		// the client gets its code and the request id.
		full := e.Error()
		if e.Stack != "" {
			full += "\n" + e.Stack
		}
		a.logs.add(LogLine{Time: time.Now().UTC(), Level: "error", Message: full, RequestID: rid})
		if e.Code == warren.CodeInternal {
			s.log.Error("app request failed", "app", id, "requestId", rid, "error", e.Error())
		}
		respond.ErrorWithID(w, respond.Public(e), rid)
	} else {
		status = resp.StatusCode
		resp.Header.Del(respond.RequestIDHeader) // the platform's, not the app's
		if cerr := respond.Copy(w, resp); cerr != nil {
			// The body broke midway (the app failed, or its host died):
			// meter and log it, then end the connection so the client
			// sees a broken response rather than a short one.
			err = cerr
			defer panic(http.ErrAbortHandler)
		}
	}

	// A failure the client caused is not the app's error.
	clientFault := body.over != nil || body.failed != nil
	u := RequestUsage{Status: status, Wall: time.Since(start), Error: !clientFault && (err != nil || status >= 500)}
	if ru != nil {
		u.CPU, u.RowsRead, u.RowsWritten = ru.CPU, ru.RowsRead, ru.RowsWritten
	}
	a.use.add(u)
	s.metrics.observe(u)
	a.logs.add(LogLine{Time: time.Now().UTC(), Level: "request", Method: r.Method, Path: path, Status: status,
		DurationMs: ms(u.Wall), CPUMs: ms(u.CPU), RequestID: rid})
	if h := s.opts.Hooks.AfterRequest; h != nil {
		h(id, info, u)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// cappedBody remembers that a request body went past its cap (over), or
// broke as the client sent it (failed).
type cappedBody struct {
	io.ReadCloser
	over   error
	failed error
}

func (b *cappedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var mb *http.MaxBytesError
	switch {
	case errors.As(err, &mb):
		b.over = err
	case err != nil && err != io.EOF:
		b.failed = err
	}
	return n, err
}
