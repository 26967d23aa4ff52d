package shared

import (
	"encoding/json"
	"time"
)

// The paths a wsplay server serves. A server that mounts the endpoints
// under a prefix (see the README, "Embedding wsplay in your own server")
// serves them below it.
const (
	PathEcho          = "/ws/echo"
	PathChat          = "/ws/chat"
	PathNotifications = "/ws/notifications"
	PathDashboard     = "/ws/dashboard"

	PathLogin     = "/api/login"         // POST [LoginRequest] → [LoginResponse]
	PathRooms     = "/api/rooms"         // GET → [RoomList]
	PathNotifyAPI = "/api/notifications" // POST [NotifyRequest] → [Notification] or [BroadcastResult]; GET → [NotificationList]
	PathHealth    = "/healthz"           // GET → [Health]
	PathMetrics   = "/metrics"           // GET → the Prometheus text format
)

// LoginRequest is the body of POST /api/login.
type LoginRequest struct {
	Username string `json:"username"`
}

// LoginResponse answers a login: a signed token for Username, valid until
// ExpiresAt. The same token is set as an HttpOnly cookie.
type LoginResponse struct {
	Token     string    `json:"token"`
	Username  string    `json:"username"`
	ExpiresAt time.Time `json:"expires_at"`
}

// APIError is the body of every error answer of the HTTP API:
//
//	{"error":{"code":"bad_request","message":"title is missing"}}
//
// Clients branch on Code, one of the [ErrorCode] values; Message is for
// people.
type APIError struct {
	Error APIErrorDetail `json:"error"`
}

// APIErrorDetail is the inside of an [APIError].
type APIErrorDetail struct {
	Code    ErrorCode `json:"code"`
	Message string    `json:"message"`
}

// NotifyRequest is the body of POST /api/notifications. UserID
// [NotifyBroadcast] sends to every known user. Type defaults to "info".
type NotifyRequest struct {
	UserID  string          `json:"user_id"`
	Type    string          `json:"type,omitempty"`
	Title   string          `json:"title"`
	Message string          `json:"message,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// BroadcastResult answers a POST /api/notifications to [NotifyBroadcast]:
// how many users the notification was stored for.
type BroadcastResult struct {
	UserID     string `json:"user_id"` // always NotifyBroadcast
	Recipients int    `json:"recipients"`
}

// NotificationList answers GET /api/notifications: the user's stored
// notifications, oldest first.
type NotificationList struct {
	Notifications []Notification `json:"notifications"`
}

// RoomList answers GET /api/rooms: the chat rooms open now, by name.
type RoomList struct {
	Rooms []RoomInfo `json:"rooms"`
}

// RoomInfo is one room of a [RoomList].
type RoomInfo struct {
	Name        string `json:"name"`
	Users       int64  `json:"users"`       // distinct users
	Connections int64  `json:"connections"` // their connections; a user may have several
}

// Health answers GET /healthz: Status is "ok" (HTTP 200) while the server
// takes connections and "shutting down" (HTTP 503) once it has begun to
// stop; Connections counts the WebSocket connections open now.
type Health struct {
	Status      string `json:"status"`
	Connections int    `json:"connections"`
}

// The values of [Health.Status].
const (
	HealthOK           = "ok"
	HealthShuttingDown = "shutting down"
)
