// Package demo is the otelaudit demo: a small in-memory Psono API and the
// server around it, shared by examples/server (ServeMux) and
// examples/routers (chi, gorilla/mux, gin, echo; its own module).
package demo

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"sync"

	"github.com/otelaudit/otelaudit/instrument"
)

type user struct {
	name, password, id string
}

type datastore struct {
	id, owner, kind string
}

type share struct {
	id, owner string
}

type session struct {
	user      *user
	tokenID   string
	activated bool
}

// API is the demo's in-memory Psono API. It serves the routes of the example
// session of Psono's audit-log documentation. Its handlers read path
// parameters with r.PathValue; a router other than ServeMux sets them with
// r.SetPathValue (see Route).
type API struct {
	users      map[string]*user
	datastores []datastore
	shares     []share

	mu       sync.Mutex
	sessions map[string]*session
}

// NewAPI returns the API with its two demo users.
func NewAPI() *API {
	demo1 := &user{"demo1@example.com", "demo1", "4d1d1a2e-0f57-4a3c-9f0c-5c3a4b8b2f10"}
	demo2 := &user{"demo2@example.com", "demo2", "ba504938-9a23-4162-867f-6840c301bc20"}
	return &API{
		users: map[string]*user{demo1.name: demo1, demo2.name: demo2},
		datastores: []datastore{
			{"bed4572d-6a28-4c00-94c2-dd45322de1d0", demo2.id, "password"},
			{"5c3e2f1a-7b9d-4e6f-8a1b-2c3d4e5f6a7b", demo2.id, "user"},
			{"0f9e8d7c-6b5a-4c3d-9e2f-1a0b9c8d7e6f", demo1.id, "password"},
		},
		shares: []share{
			{"de10070a-e836-4fb7-838c-89a85486c7c5", demo2.id},
			{"7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d", demo1.id},
		},
		sessions: map[string]*session{},
	}
}

// A Route is one route of the demo: its method, its path with {name}
// parameters as ServeMux writes them, and its handler.
type Route struct {
	Method, Path string
	Handler      http.HandlerFunc
}

// Routes returns the demo's routes, in the order of the seed session.
func (a *API) Routes() []Route {
	return []Route{
		{"GET", "/info/", a.Info},
		{"POST", "/authentication/login/", a.Login},
		{"POST", "/authentication/activate-token/", a.ActivateToken},
		{"GET", "/user/status/", a.Status},
		{"GET", "/datastore/", a.ListDatastores},
		{"GET", "/datastore/{datastore_id}/", a.ReadDatastore},
		{"GET", "/share/right/", a.ShareRights},
		{"GET", "/share/{share_id}/", a.ReadShare},
		{"GET", "/healthcheck/", a.Healthcheck},
	}
}

// ServeMux returns the demo's routes on a ServeMux.
func (a *API) ServeMux() *http.ServeMux {
	mux := http.NewServeMux()
	for _, rt := range a.Routes() {
		mux.HandleFunc(rt.Method+" "+rt.Path, rt.Handler)
	}
	return mux
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func (a *API) Info(w http.ResponseWriter, r *http.Request) {
	instrument.SetLogger(r.Context(), "restapi.views.info")
	instrument.SetEvent(r.Context(), "READ_INFO_SUCCESS")
	reply(w, http.StatusOK, map[string]string{"api": "otelaudit demo", "version": "1"})
}

func (a *API) Login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	instrument.SetLogger(ctx, "restapi.views.login")
	var req struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req)
	u := a.users[req.Username]
	if err != nil || u == nil || u.password != req.Password {
		instrument.SetEvent(ctx, "LOGIN_STARTED_ERROR")
		reply(w, http.StatusBadRequest, map[string]string{"non_field_errors": "Username or password wrong."})
		return
	}
	token := make([]byte, 32)
	_, _ = rand.Read(token)
	s := &session{user: u, tokenID: newID()}
	tok := hex.EncodeToString(token)
	a.mu.Lock()
	a.sessions[tok] = s
	a.mu.Unlock()
	instrument.SetUser(ctx, u.name, u.id)
	instrument.SetEvent(ctx, "LOGIN_STARTED_SUCCESS")
	reply(w, http.StatusOK, map[string]string{"token": tok, "token_id": s.tokenID})
}

// session returns the session of the request's "Authorization: Token ..."
// header, or nil.
func (a *API) session(r *http.Request) *session {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Token ")
	if !ok {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sessions[tok]
}

// authenticated returns the user of an activated session. Otherwise it
// answers 401 with the event action+"_ERROR" and returns nil.
func (a *API) authenticated(w http.ResponseWriter, r *http.Request, logger, action string) *user {
	instrument.SetLogger(r.Context(), logger)
	s := a.session(r)
	if s == nil || !s.activated {
		instrument.SetEvent(r.Context(), action+"_ERROR")
		reply(w, http.StatusUnauthorized, map[string]string{"detail": "Invalid token or not yet activated."})
		return nil
	}
	instrument.SetUser(r.Context(), s.user.name, s.user.id)
	return s.user
}

func (a *API) ActivateToken(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	instrument.SetLogger(ctx, "restapi.views.activate_token")
	s := a.session(r)
	if s == nil {
		instrument.SetEvent(ctx, "LOGIN_ACTIVATE_TOKEN_ERROR")
		reply(w, http.StatusUnauthorized, map[string]string{"detail": "Invalid token."})
		return
	}
	a.mu.Lock()
	s.activated = true
	a.mu.Unlock()
	instrument.SetUser(ctx, s.user.name, s.user.id)
	instrument.AddKwarg(ctx, "token_id", s.tokenID)
	instrument.SetEvent(ctx, "LOGIN_ACTIVATE_TOKEN_SUCCESS")
	reply(w, http.StatusOK, map[string]string{"user": s.user.name, "user_id": s.user.id})
}

func (a *API) Status(w http.ResponseWriter, r *http.Request) {
	u := a.authenticated(w, r, "restapi.views.status", "READ_STATUS")
	if u == nil {
		return
	}
	instrument.SetEvent(r.Context(), "READ_STATUS_SUCCESS")
	reply(w, http.StatusOK, map[string]any{"unaccepted_shares_count": 0})
}

func (a *API) ListDatastores(w http.ResponseWriter, r *http.Request) {
	u := a.authenticated(w, r, "restapi.views.datastore", "LIST_ALL_DATASTORES")
	if u == nil {
		return
	}
	var list []map[string]string
	for _, d := range a.datastores {
		if d.owner == u.id {
			list = append(list, map[string]string{"id": d.id, "type": d.kind})
		}
	}
	instrument.SetEvent(r.Context(), "LIST_ALL_DATASTORES_SUCCESS")
	reply(w, http.StatusOK, map[string]any{"datastores": list})
}

func (a *API) ReadDatastore(w http.ResponseWriter, r *http.Request) {
	u := a.authenticated(w, r, "restapi.views.datastore", "LIST_DATASTORE")
	if u == nil {
		return
	}
	id := r.PathValue("datastore_id")
	for _, d := range a.datastores {
		if d.id != id {
			continue
		}
		if d.owner != u.id {
			instrument.SetEvent(r.Context(), "LIST_DATASTORE_PERMISSION_DENIED_ERROR")
			reply(w, http.StatusForbidden, map[string]string{"detail": "You don't have permission to access this datastore."})
			return
		}
		instrument.SetEvent(r.Context(), "LIST_DATASTORE_SUCCESS")
		reply(w, http.StatusOK, map[string]string{"id": d.id, "type": d.kind})
		return
	}
	instrument.SetEvent(r.Context(), "LIST_DATASTORE_NOT_FOUND_ERROR")
	reply(w, http.StatusNotFound, map[string]string{"detail": "No such datastore."})
}

func (a *API) ShareRights(w http.ResponseWriter, r *http.Request) {
	u := a.authenticated(w, r, "restapi.views.share_right", "READ_GROUP_SHARE_RIGHTS")
	if u == nil {
		return
	}
	instrument.SetEvent(r.Context(), "READ_GROUP_SHARE_RIGHTS_SUCCESS")
	reply(w, http.StatusOK, map[string]any{"share_rights": []string{}})
}

func (a *API) ReadShare(w http.ResponseWriter, r *http.Request) {
	u := a.authenticated(w, r, "restapi.views.share", "READ_SHARE")
	if u == nil {
		return
	}
	id := r.PathValue("share_id")
	for _, s := range a.shares {
		if s.id != id {
			continue
		}
		if s.owner != u.id {
			instrument.SetEvent(r.Context(), "READ_SHARE_PERMISSION_DENIED_ERROR")
			reply(w, http.StatusForbidden, map[string]string{"detail": "You don't have permission to access this share."})
			return
		}
		instrument.SetEvent(r.Context(), "READ_SHARE_SUCCESS")
		reply(w, http.StatusOK, map[string]string{"id": s.id})
		return
	}
	instrument.SetEvent(r.Context(), "READ_SHARE_NOT_FOUND_ERROR")
	reply(w, http.StatusNotFound, map[string]string{"detail": "No such share."})
}

func (a *API) Healthcheck(w http.ResponseWriter, r *http.Request) {
	instrument.SetLogger(r.Context(), "restapi.views.health_check")
	instrument.SetEvent(r.Context(), "CHECK_HEALTH_SUCCESS")
	reply(w, http.StatusOK, map[string]bool{"db_read": true, "db_sync": true, "time_sync": true})
}
