package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"wsplay/server/gate"
	"wsplay/server/internal/httpjson"
	"wsplay/shared"
)

// The HTTP API for back-end systems:
//
//	POST /api/notifications   {"user_id","type","title","message","data"} → 201 and the stored notification
//	GET  /api/notifications?user_id=ID[&unread=true] → 200 {"notifications":[…]}, oldest first
//
// Both need "Authorization: Bearer <Config.AdminToken>". user_id "*" on a
// POST is a broadcast: one notification is stored for every known user
// (each user who has had a notification or connected to /ws/notifications)
// and the answer is {"user_id":"*","recipients":N}. An unknown user id is
// fine: the notification waits for them.
//
// Every error is {"error":{"code":…,"message":…}} with a stable code:
//
//	400 bad_json       the body is not one JSON object of the documented fields
//	400 bad_request    a field is missing or invalid (named in message)
//	401 unauthorized   no or wrong bearer token
//	405 method_not_allowed
//	413 too_large      the body is over 64 KiB
//	503 unavailable    the server is shutting down
//	500 internal       the store failed; nothing was stored
//
// A 201 means the notification is stored: the store commits before the
// answer, and shutdown waits for POSTs it has admitted.

// serveNotificationsAPI handles /api/notifications.
// APIHandler serves /api/notifications, the HTTP API for back-end
// systems described above.
func (n *Service) APIHandler() http.Handler { return http.HandlerFunc(n.serveAPI) }

func (n *Service) serveAPI(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		httpjson.Error(w, http.StatusMethodNotAllowed, shared.CodeMethodNotAllowed, "use POST to send a notification, GET to list them")
		return
	}
	if !n.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="wsplay"`)
		httpjson.Error(w, http.StatusUnauthorized, shared.CodeUnauthorized, "send the admin token as \"Authorization: Bearer TOKEN\" (see -admin-token)")
		return
	}
	if !n.begin() {
		httpjson.Error(w, http.StatusServiceUnavailable, shared.CodeUnavailable, "the server is shutting down; try again shortly")
		return
	}
	defer n.end()
	if r.Method == http.MethodGet {
		n.listNotifications(w, r)
		return
	}
	n.postNotification(w, r)
}

// authorized reports whether r carries the admin token.
func (n *Service) authorized(r *http.Request) bool {
	return n.cfg.AdminToken != "" && gate.BearerIs(r, n.cfg.AdminToken)
}

func (n *Service) postNotification(w http.ResponseWriter, r *http.Request) {
	req, perr := decodeNotifyRequest(w, r)
	if perr != nil {
		status := http.StatusBadRequest
		if perr.Code == shared.CodeTooLarge {
			status = http.StatusRequestEntityTooLarge
		}
		httpjson.Error(w, status, perr.Code, perr.Detail)
		return
	}
	note := shared.Notification{UserID: req.UserID, Type: req.Type, Title: req.Title, Message: req.Message, Data: req.Data}
	// The commit must not depend on the caller staying: once stored, the
	// notification is published whether or not the 201 reaches anyone.
	ctx := context.WithoutCancel(r.Context())
	if req.UserID == shared.NotifyBroadcast {
		count, err := n.broadcast(ctx, note)
		if err != nil {
			n.log.Error("cannot store a broadcast notification", "reached", count, "err", err)
			detail := "the notification could not be stored; nothing was sent"
			if count > 0 {
				detail = fmt.Sprintf("the notification could not be stored for every user: %d had it before the store failed", count)
			}
			httpjson.Error(w, http.StatusInternalServerError, shared.CodeInternal, detail)
			return
		}
		n.log.Debug("notification broadcast", "recipients", count)
		httpjson.Write(w, http.StatusCreated, shared.BroadcastResult{UserID: shared.NotifyBroadcast, Recipients: count})
		return
	}
	note.ID = newID()
	stored, err := n.add(ctx, false, note)
	if errors.Is(err, ErrFull) {
		n.log.Warn("notification refused: the store is full", "max_users", n.cfg.MaxUsers)
		httpjson.Error(w, http.StatusServiceUnavailable, shared.CodeUnavailable,
			"the notification store is full: every user it may keep (-notify-max-users) has notifications; nothing was sent")
		return
	}
	if err != nil {
		n.log.Error("cannot store a notification", "err", err)
		httpjson.Error(w, http.StatusInternalServerError, shared.CodeInternal, "the notification could not be stored; nothing was sent")
		return
	}
	n.log.Debug("notification stored", "user", stored[0].UserID, "seq", stored[0].Seq)
	httpjson.Write(w, http.StatusCreated, stored[0])
}

// decodeNotifyRequest reads and checks a POST body.
func decodeNotifyRequest(w http.ResponseWriter, r *http.Request) (shared.NotifyRequest, *shared.Error) {
	var req shared.NotifyRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, shared.MaxNotifyBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(&req)
	if err == nil {
		if _, terr := dec.Token(); !errors.Is(terr, io.EOF) {
			err = terr
			if err == nil {
				err = errors.New("trailing data after the JSON object")
			}
		}
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return req, shared.Errorf(shared.CodeTooLarge, "the body is over %d bytes", tooBig.Limit)
	case err != nil && strings.HasPrefix(err.Error(), "json: unknown field"):
		return req, shared.Errorf(shared.CodeBadJSON, "%s; the fields are user_id, type, title, message and data", strings.TrimPrefix(err.Error(), "json: "))
	case err != nil:
		return req, jsonAPIError(err)
	}

	req.Title, req.Message, req.Type = strings.TrimSpace(req.Title), strings.TrimSpace(req.Message), strings.TrimSpace(req.Type)
	switch {
	case req.UserID == "":
		return req, shared.Errorf(shared.CodeBadRequest, "user_id is missing (use \"*\" to send to every user)")
	case req.UserID != shared.NotifyBroadcast && shared.ValidateName("user_id", req.UserID) != nil:
		return req, shared.Errorf(shared.CodeBadRequest, "%v", shared.ValidateName("user_id", req.UserID))
	case req.Title == "":
		return req, shared.Errorf(shared.CodeBadRequest, "title is missing")
	}
	if req.Type == "" {
		req.Type = "info"
	}
	if err := shared.ValidateName("type", req.Type); err != nil {
		return req, shared.Errorf(shared.CodeBadRequest, "%v", err)
	}
	if perr := checkNotifyText(req.Title, req.Message); perr != nil {
		perr.Code = shared.CodeBadRequest // the body limit is the API's 413
		return req, perr
	}
	if len(req.Data) > 0 {
		var buf bytes.Buffer
		if err := json.Compact(&buf, req.Data); err != nil {
			return req, shared.Errorf(shared.CodeBadJSON, "data: %v", err)
		}
		switch {
		case buf.String() == "null":
			req.Data = nil
		case !utf8.Valid(buf.Bytes()):
			// It goes into WebSocket text frames, which must be UTF-8.
			return req, shared.Errorf(shared.CodeBadRequest, "data must be valid UTF-8")
		default:
			req.Data = buf.Bytes()
		}
	}
	if perr := checkNotifyFrame(shared.Notification{Type: req.Type, Title: req.Title, Message: req.Message, Data: req.Data}); perr != nil {
		return req, perr // too_large: 413, like a body over the limit
	}
	return req, nil
}

// jsonAPIError names a JSON decoding problem without echoing the body.
func jsonAPIError(err error) *shared.Error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field == "":
		return shared.Errorf(shared.CodeBadJSON, "the body must be a JSON object, not a JSON %s", typeErr.Value)
	case errors.As(err, &typeErr):
		return shared.Errorf(shared.CodeBadJSON, "field %q has the wrong type: got a JSON %s", typeErr.Field, typeErr.Value)
	case errors.Is(err, io.EOF):
		return shared.Errorf(shared.CodeBadJSON, "the body is empty; send a JSON object")
	case errors.As(err, &syntaxErr):
		return shared.Errorf(shared.CodeBadJSON, "not valid JSON at byte %d", syntaxErr.Offset)
	}
	return shared.Errorf(shared.CodeBadJSON, "not valid JSON: %.100v", err)
}

func (n *Service) listNotifications(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	user := q.Get("user_id")
	if err := shared.ValidateName("user_id", user); err != nil {
		httpjson.Error(w, http.StatusBadRequest, shared.CodeBadRequest, err.Error())
		return
	}
	unread := false
	if v := q.Get("unread"); v != "" {
		var err error
		if unread, err = strconv.ParseBool(v); err != nil {
			httpjson.Error(w, http.StatusBadRequest, shared.CodeBadRequest, "unread must be true or false")
			return
		}
	}
	notes, err := n.store.ListNotifications(r.Context(), user, unread)
	if err != nil {
		n.log.Error("cannot list notifications", "err", err)
		httpjson.Error(w, http.StatusInternalServerError, shared.CodeInternal, "the notifications could not be read")
		return
	}
	httpjson.Write(w, http.StatusOK, shared.NotificationList{Notifications: notes})
}
