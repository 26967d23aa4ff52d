// Package shared is the wsplay wire protocol, defined once and compiled into
// both the server (linux, darwin, windows …) and the browser client
// (GOOS=js GOARCH=wasm). It uses the standard library only, so it never pulls
// a WebSocket implementation into either side.
//
// # Endpoints and frames
//
// Every endpoint speaks JSON text frames, except echo:
//
//   - /ws/echo returns each frame unchanged, text as text and binary as
//     binary. It is the one endpoint that does not use this package's types.
//   - /ws/chat carries [Message] values in both directions.
//   - /ws/notifications carries [NotifyMessage] values in both directions;
//     see "Notifications" below.
//   - /ws/dashboard pushes [DashboardData] snapshots to the client.
//
// The three JSON endpoints also answer the heartbeat, a ping in the same
// text frame on each; see "Heartbeat" below.
//
// A [Message] is a flat envelope: its [Type] says which of the other fields
// matter. The field names type, username, content, timestamp and users are
// those of the well-known gorilla chat tutorial, so a plain JavaScript client
// written against that tutorial keeps working:
//
//	{"type":"text","username":"ada","content":"hello","timestamp":"2026-11-28T10:00:00Z"}
//
// # Frames and batches
//
// No frame the server sends on /ws/chat, /ws/notifications or
// /ws/dashboard is over [MaxFrame] (32 KiB), so a client at
// coder/websocket's default read limit, or any client that caps a
// message at 32 KiB, can read everything. Whatever grows with the
// server's data goes out in bounded batches: several messages of the
// same type in a row, each one JSON object in a frame of its own, all but
// the last marked "more":true:
//
//	{"type":"history","messages":[…],"epoch":"…","seq":50,"more":true}
//	{"type":"history","messages":[…],"epoch":"…","seq":50}
//
// What comes so:
//
//   - chat's history, on joining and on resuming: the pages together are
//     the messages, oldest first; Seq and Recovered apply after the last;
//   - chat's user_list of a big room: the pages together are the list;
//   - a run of joins or leaves in a big room: several join (or leave)
//     messages, each a part of the run, with no more flag: each is
//     complete in itself;
//   - notifications' synced: the pages together are the unread ids; the
//     backlog ends with the last (each notification is a message of its
//     own, and the API refuses one over [MaxNotifyFrame]);
//   - the dashboard's history on connecting (see "Dashboard").
//
// A client that does not know more still parses every frame as one JSON
// value; it sees the history as several in a row, and a big room's list
// as its last page only. A frame of [SubprotocolBatch] holds as many
// messages as fit MaxFrame. A single chat message fits too: the server
// refuses a -max-content that would let one outgrow it. Echo is the
// exception, by asking: it returns each frame as the client sent it, so
// a client that sends more than MaxFrame (up to the read limit) gets as
// much back.
//
// # Heartbeat
//
// A browser cannot send a WebSocket ping (its WebSocket API has none), so
// a page cannot tell a quiet connection from a dead one: when a NAT or a
// proxy forgets a connection, or a laptop sleeps, nothing arrives and
// nothing fails until TCP gives up, minutes later. So /ws/chat,
// /ws/notifications and /ws/dashboard answer an application-level ping,
// the same text frame on all three:
//
//	{"type":"ping","id":"17"}   client → server; id optional
//	{"type":"pong","id":"17"}   server → client, to that connection only
//
// The id, if any, follows [ValidateClientID]'s rule; the pong carries it
// back, so that a client can time the round trip. A ping with another
// id gets an error with [CodeBadRequest] (on the dashboard, an
// {"type":"error","code":…,"message":…}, the only error it sends) and the
// connection goes on. A ping is answered at once and goes nowhere else:
// never stored, never broadcast. Like any message it is activity for the
// server (see "Close codes": a client silent for the server's pong wait is
// dropped), and like any message it counts against the connection's
// message rate (10 a second, bursts of 20, by default): a client that
// pings every few seconds never notices, one that floods pings gets
// [CodeRateLimited], then 1008, as for any flood. It does not count
// against chat's per-address limit, which is for stored messages.
//
// The page's client keeps a heartbeat on every socket of these three: it
// pings after half its heartbeat (30 s by default) without a message, and
// when the other half passes with no message at all, pong or any other,
// it drops the connection and reconnects with backoff, resuming as after
// any loss (chat with since=, notifications with since=), so nothing is
// lost. A client that is not a browser may use WebSocket pings instead;
// the server answers both.
//
// # Dashboard
//
// /ws/dashboard is push-only: the server sends one [DashboardData] snapshot
// per interval and ignores text the client sends other than the heartbeat
// (a binary frame closes the connection with 1003). The first messages are the recent snapshots, so
// charts start full: pages of at most [MaxFrame] bytes, oldest first,
// each a snapshot with the ones before it in History, all but the last
// marked "more":true; the last page's own snapshot is the newest. Every
// later message is one snapshot without History. The interval is the
// server's default (1 s) unless the client asks for one of
// [DashboardIntervals]:
//
//	/ws/dashboard?interval=250ms
//
// Any other value is refused before the upgrade with HTTP 400 and a reason.
//
// Latest value wins: a client that reads slower than snapshots come gets
// the newest one when it is ready for the next, and never a backlog; the
// snapshots it missed are gone (Timestamp shows the gap). So a client
// should plot against Timestamp, not against the count of messages.
//
// # Errors
//
// When a client sends something the server cannot use, and the connection can
// go on, the server answers with a message of type [TypeError] whose Code is
// one of the stable [ErrorCode] values and whose Content explains it for a
// person:
//
//	{"type":"error","code":"unknown_type","content":"unknown message type \"shout\"", ...}
//
// A chat text refused for its content (empty, or over the server's limit)
// carries the text's id, when it had a valid one, so that the client knows
// which line was not stored:
//
//	{"type":"error","code":"too_large","content":"content is 5002 bytes as JSON; the limit is 4096","id":"k3-7", ...}
//
// Clients branch on Code, never on Content. [Decode] returns an [*Error]
// carrying the code to send back, so the server and the tests agree on it.
//
// # Notifications
//
// A client connects as one user, and may hold many connections (tabs,
// devices); each receives every one of the user's notifications exactly
// once, in the order of their Seq, which increases by one per notification
// of that user:
//
//	/ws/notifications?user_id=ada             unread notifications, then live ones
//	/ws/notifications?user_id=ada&since=41    every notification after seq 41, then live ones
//
// A missing or invalid user_id (the rule of [ValidateName]) or since is
// refused before the upgrade with HTTP 400 and a reason. The server first
// sends the stored notifications asked for, oldest first, each as a
// [NotifyNotification] message; then one [NotifySynced] message; then live
// notifications and read changes as they happen:
//
//	{"type":"notification","notification":{"id":"…","user_id":"ada","type":"order","title":"Order confirmed","message":"…","timestamp":"…","read":false,"seq":42},"unread":3}
//	{"type":"synced","unread":3,"seq":42,"ids":["…","…","…"]}
//	{"type":"read","unread":2,"ids":["…"]}
//	{"type":"read","all":true,"seq":42}
//
// Notifications before synced are the backlog (show them in the list);
// those after it are new (show a toast). A field that is zero is left
// out: {"type":"synced"} says there is nothing, and nothing unread. Synced
// lists the ids of every
// unread notification, so a reconnecting client learns what was read
// while it was away; it resumes later with since= set to the highest seq
// it has seen (synced's Seq, or a later notification's). If since is
// beyond the user's newest notification (the server's data was reset),
// the server answers as for since=0 and synced's Seq is lower than since.
//
// A client marks notifications read, and pokes other users:
//
//	{"type":"mark_read","id":"…"}
//	{"type":"mark_read","all":true,"seq":42}
//	{"type":"poke","to":"bob","title":"Lunch?","message":"12:30 at the usual place"}
//
// and the server answers the sender of a poke, and any client whose
// message it could not use:
//
//	{"type":"poked","id":"…","to":"bob"}
//	{"type":"error","code":"rate_limited","message":"pokes are limited to 3 in a row, then one per 1s; try again in 640ms"}
//
// A change of read state is stored, then sent as a [NotifyRead] message to
// every connection of the user, the one that asked included. Marking an
// already-read notification changes nothing and gets no answer; an id that
// is not the user's gets an error with [CodeForbidden]. A poke is stored
// for its recipient, with From set by the server to the sender's identity
// (a From sent by the client is ignored), and acknowledged to the sender
// with [NotifyPoked]. Only a user the server knows (one who has connected
// or had a notification) can be poked; any other name gets an error with
// [CodeNotFound]. Pokes are rate-limited per connection: the excess
// gets an error with [CodeRateLimited] saying when to try again. Every
// message counts against the same per-connection message rate as chat, so
// a client that floods marks is refused the same way and, if it keeps on,
// closed with 1008 (policy violation).
//
// A client that reads too slowly is closed with 1008 like any other; it
// reconnects with since= and loses nothing. Each user keeps a bounded
// number of notifications (the server's -notify-retention, 500 by
// default): beyond it the oldest are deleted, read or not.
//
// Back-end systems send notifications with POST /api/notifications; the
// server's README describes that HTTP API.
//
// # Fault injection
//
// A server run with -playground-faults lets a client of chat,
// notifications or the dashboard break its own connection, to watch it
// recover: {"type":"fault","content":NAME} or NAME=N, one of latency=MS
// (0-5000), drop=N (1-100, default 1), no_pong (the heartbeat's pings
// go unanswered), stall_reads=N (queue bound, default 16; closed with
// 1008 "too slow" once full), close=CODE (1000, 1001, 1008, 1011,
// 4000-4999) and restart (1012). The server echoes an accepted fault
// before it takes effect; a bad one gets an error of code bad_request,
// and on a server without the flag every one gets forbidden, each in the
// endpoint's own error message. The connection stays open after an
// error. See [TypeFault], which says what each fault does on the
// dashboard, and the Fault constants.
//
// # Close codes
//
// When the connection cannot go on, the server closes it with one of the
// codes below. [DescribeClose] tells a client what each means and whether to
// reconnect:
//
//	1000 normal closure        the side that closed was done; do not reconnect
//	1001 going away            server shutting down or restarting; reconnect with backoff
//	1002 protocol error        a malformed frame; a client bug, do not reconnect
//	1003 unsupported data      e.g. a binary frame on a text endpoint; do not reconnect
//	1006 abnormal closure      no close frame (network loss, crash); reconnect with backoff
//	1007 invalid payload       text that is not UTF-8; do not reconnect
//	1008 policy violation      too slow a reader, or repeated bad input; reconnect with backoff
//	1009 message too big       over the endpoint's read limit; do not reconnect
//	1011 internal error        a server fault; reconnect with backoff
//	1012 service restart       reconnect with backoff
//	1013 try again later       server over capacity; reconnect with a longer backoff
//	4400-4599 refused          a handshake refused, explained (only to a client that
//	                           offered [SubprotocolExplain]): 4000 + the HTTP status,
//	                           the reason says why; 4429 and 4503 reconnect with
//	                           backoff, the others do not
//
// "Reconnect with backoff" means jittered exponential backoff: wait a random
// time up to a ceiling that doubles after each failed attempt, so that many
// clients cut off at once do not all return in the same instant.
package shared
