package gateway

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/warrenhq/warren"
	"github.com/warrenhq/warren/respond"
	"github.com/warrenhq/warren/supervisor"
)

// maxDeployBody bounds a deploy body: the largest code a Worker may have,
// plus room for JSON escaping and the other fields.
const maxDeployBody = warren.MaxCodeSize + warren.MaxCodeSize/2

// routeApps adds the built-in supervisor's routes: the admin API under
// /api/v1 (bearer token), /metrics (bearer token), and app traffic at
// /apps/{id}/...
func (s *Server) routeApps(mux *http.ServeMux) {
	admin := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if !s.authorized(r) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="warren"`)
				respond.Error(w, &warren.Error{Code: warren.CodeUnauthorized, Message: "the admin API needs the admin token",
					Hint: "send Authorization: Bearer <token>; the token is WARREN_ADMIN_TOKEN, --admin-token, or the admin.token file in the data folder"})
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc("GET /api/v1/apps", admin(s.listApps))
	mux.HandleFunc("GET /api/v1/apps/{id}", admin(s.getApp))
	mux.HandleFunc("PUT /api/v1/apps/{id}", admin(s.deployApp))
	mux.HandleFunc("DELETE /api/v1/apps/{id}", admin(s.deleteApp))
	mux.HandleFunc("POST /api/v1/apps/{id}/rollback", admin(s.rollbackApp))
	mux.HandleFunc("GET /api/v1/apps/{id}/limits", admin(s.appLimits))
	mux.HandleFunc("PUT /api/v1/apps/{id}/limits", admin(s.setAppLimits))
	mux.HandleFunc("GET /api/v1/apps/{id}/logs", admin(s.appLogs))
	mux.HandleFunc("GET /api/v1/apps/{id}/usage", admin(s.usage))
	mux.HandleFunc("GET /api/v1/usage", admin(s.usage))
	mux.Handle("GET /metrics", admin(s.Apps.MetricsHandler().ServeHTTP))
	mux.HandleFunc("/apps/{id}", s.appTraffic)
	mux.HandleFunc("/apps/{id}/{rest...}", s.appTraffic)
}

func (s *Server) authorized(r *http.Request) bool { return bearer(r, s.AdminToken) }

// bearer reports whether r carries token (never an empty one) as its
// bearer token.
func bearer(r *http.Request, token string) bool {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	ok = ok && strings.EqualFold(scheme, "Bearer") // auth schemes are case-insensitive (RFC 9110 11.1)
	return ok && token != "" && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(token)) == 1
}

// appHost returns the app id of a request to {id}.<Domain>, if it is one.
func (s *Server) appHost(r *http.Request) (string, bool) {
	if s.Domain == "" {
		return "", false
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	id, ok := strings.CutSuffix(strings.ToLower(host), "."+s.Domain)
	if !ok || id == "" {
		return "", false
	}
	return id, true
}

func (s *Server) appTraffic(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	rest := strings.TrimPrefix(r.URL.Path, "/apps/"+id)
	if rest == "" {
		rest = "/"
	}
	s.Apps.ServeApp(w, r, id, rest)
}

func (s *Server) listApps(w http.ResponseWriter, r *http.Request) {
	respond.JSON(w, http.StatusOK, map[string]any{"apps": s.Apps.Apps()})
}

func (s *Server) getApp(w http.ResponseWriter, r *http.Request) {
	info, err := s.Apps.App(r.PathValue("id"))
	reply(w, info, err)
}

// reply answers with err if there is one, else with v as JSON.
func reply(w http.ResponseWriter, v any, err error) {
	if err != nil {
		respond.Error(w, err)
		return
	}
	respond.JSON(w, http.StatusOK, v)
}

func (s *Server) deployApp(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := supervisor.ValidateID(id); err != nil {
		respond.Error(w, err)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxDeployBody))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			respond.Error(w, &warren.Error{Code: warren.CodeTooLarge, Limit: "deploy size", Message: fmt.Sprintf("the deploy body is larger than %d bytes", mb.Limit), Hint: fmt.Sprintf("an app's code may be at most %d bytes; bundle less, or load large assets from storage", warren.MaxCodeSize)})
			return
		}
		respond.Error(w, &warren.Error{Code: warren.CodeBadRequest, Message: "reading the deploy body: " + err.Error()})
		return
	}
	d, err := supervisor.ParseDeployment(r.Header.Get("Content-Type"), body)
	if err != nil {
		respond.Error(w, err)
		return
	}
	if c := r.URL.Query().Get("className"); c != "" {
		d.ClassName = c
	}
	v, created, err := s.Apps.Deploy(r.Context(), id, d)
	if err != nil {
		respond.Error(w, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	respond.JSON(w, status, map[string]any{"app": id, "created": created, "version": v, "url": "/apps/" + id + "/"})
}

func (s *Server) deleteApp(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.Apps.Delete(id); err != nil {
		respond.Error(w, err)
		return
	}
	respond.JSON(w, http.StatusOK, map[string]any{"app": id, "deleted": true})
}

func (s *Server) rollbackApp(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	version := 0
	if v := r.URL.Query().Get("version"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			respond.Error(w, &warren.Error{Code: warren.CodeBadRequest, Message: fmt.Sprintf("version %q is not a version number", v), Hint: "give ?version=N with N from GET /api/v1/apps/" + id})
			return
		}
		version = n
	}
	v, err := s.Apps.Rollback(id, version)
	if err != nil {
		respond.Error(w, err)
		return
	}
	respond.JSON(w, http.StatusOK, map[string]any{"app": id, "version": v})
}

// maxLimitsBody bounds the body of PUT /api/v1/apps/{id}/limits.
const maxLimitsBody = 1 << 20

func (s *Server) appLimits(w http.ResponseWriter, r *http.Request) {
	l, err := s.Apps.Limits(r.PathValue("id"))
	reply(w, l, err)
}

// setAppLimits sets the quotas and egress the body gives, keeping the
// others.
func (s *Server) setAppLimits(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := supervisor.ValidateID(id); err != nil {
		respond.Error(w, err)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxLimitsBody))
	if err != nil {
		respond.Error(w, &warren.Error{Code: warren.CodeBadRequest, Message: "reading the limits: " + err.Error()})
		return
	}
	c, err := supervisor.ParseLimitsChange(body)
	if err != nil {
		respond.Error(w, err)
		return
	}
	l, err := s.Apps.SetLimits(id, c)
	reply(w, l, err)
}

// appLogs serves the app's log as JSON lines, or with ?follow=1 as
// server-sent events (the kept lines first, then new ones as they come).
func (s *Server) appLogs(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	n := 0
	if v := r.URL.Query().Get("limit"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 0 {
			respond.Error(w, &warren.Error{Code: warren.CodeBadRequest, Message: fmt.Sprintf("limit %q is not a number of lines", v)})
			return
		}
	}
	follow := r.URL.Query().Get("follow")
	if follow == "" || follow == "0" || follow == "false" {
		lines, err := s.Apps.Logs(id, n)
		if err != nil {
			respond.Error(w, err)
			return
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		enc := json.NewEncoder(w)
		for _, l := range lines {
			enc.Encode(l)
		}
		return
	}
	ch, cancel, err := s.Apps.FollowLogs(id)
	if err != nil {
		respond.Error(w, err)
		return
	}
	defer cancel()
	lines, _ := s.Apps.Logs(id, n)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	send := func(l supervisor.LogLine) bool {
		b, _ := json.Marshal(l)
		if _, err := fmt.Fprintf(w, "event: log\ndata: %s\n\n", b); err != nil {
			return false
		}
		if fl != nil {
			fl.Flush()
		}
		return true
	}
	for _, l := range lines {
		if !send(l) {
			return
		}
	}
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	stopping := s.stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-stopping:
			fmt.Fprintf(w, "event: end\ndata: {\"reason\":\"server shutting down\"}\n\n")
			return
		case l, ok := <-ch:
			if !ok {
				fmt.Fprintf(w, "event: end\ndata: {\"reason\":\"app deleted\"}\n\n")
				return
			}
			if !send(l) {
				return
			}
		case <-ping.C:
			if _, err := io.WriteString(w, ": ping\n\n"); err != nil {
				return
			}
			if fl != nil {
				fl.Flush()
			}
		}
	}
}

// usage serves usage per app and period, as JSON or (Accept: text/csv) CSV.
func (s *Server) usage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if id != "" {
		if _, err := s.Apps.App(id); err != nil && warren.ErrorCode(err) != warren.CodeNotFound {
			respond.Error(w, err)
			return
		}
	}
	rows, err := s.Apps.Usage(id, r.URL.Query().Get("period"))
	if err != nil {
		respond.Error(w, err)
		return
	}
	if strings.Contains(r.Header.Get("Accept"), "text/csv") || r.URL.Query().Get("format") == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		supervisor.WriteUsageCSV(w, rows)
		return
	}
	respond.JSON(w, http.StatusOK, map[string]any{"usage": rows})
}
